"""Files the emulators keep (record attachments, uploaded files): their bytes on disk, never whole
in memory. Shared by both emulators; what each API answers about them is in vault_files.py and
zoho_files.py, the endpoints and their sources in docs/files-api.md.

A `FileStore` writes each file once under its root (a temporary directory, or the state
directory's `files/` with `python -m sandbox --state`). Demo files are `lazy`: their deterministic
bytes are written on first use, so the sandbox starts as fast as before and a 20 MB demo file
costs nothing until someone reads it.
"""

from __future__ import annotations

import hashlib
import random
import tempfile
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

CHUNK = 64 * 1024
MAX_HEADER_BYTES = 16 * 1024  # one multipart part's headers
MAX_FORM_VALUE = 64 * 1024  # a text field beside the file


@dataclass
class FileAnswer:
    """A download: the emulator streams the blob in chunks with these headers."""

    chunks: Iterator[bytes]
    size: int
    content_type: str
    filename: str


class MultipartError(ValueError):
    """The body is not a multipart/form-data body this emulator can read."""


@dataclass
class Blob:
    """One stored file: its path under the store, size and MD5 (hex). A lazy blob (a demo file)
    has `seed` and writes its bytes on first `open` or `md5`."""

    key: str
    size: int
    store: FileStore = field(repr=False)
    seed: int | None = None
    _md5: str = ""

    @property
    def path(self) -> Path:
        return self.store.root / self.key

    @property
    def md5(self) -> str:
        if not self._md5:
            self.store.materialize(self)
        return self._md5

    def chunks(self) -> Iterator[bytes]:
        self.store.materialize(self)
        with self.path.open("rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    def to_json(self) -> dict[str, object]:
        return {"key": self.key, "size": self.size, "seed": self.seed, "md5": self._md5}


class FileStore:
    def __init__(self, root: Path | None = None) -> None:
        self._tmp = None if root is not None else tempfile.TemporaryDirectory(prefix="sandbox-files-")
        self.root = root if root is not None else Path(self._tmp.name)  # type: ignore[union-attr]
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def lazy(self, *, seed: int, size: int) -> Blob:
        """A demo file of `size` deterministic bytes from `seed`, written when first read."""
        return Blob(key=f"demo-{seed}-{size}", size=size, store=self, seed=seed)

    def put(self, chunks: Iterable[bytes]) -> Blob:
        key = uuid.uuid4().hex
        digest, size = hashlib.md5(usedforsecurity=False), 0
        with (self.root / key).open("wb") as f:
            for chunk in chunks:
                f.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        return Blob(key=key, size=size, store=self, _md5=digest.hexdigest())

    def materialize(self, blob: Blob) -> None:
        with self._lock:
            if blob.seed is None or (blob._md5 and blob.path.exists()):
                return
            digest = hashlib.md5(usedforsecurity=False)
            with blob.path.open("wb") as f:
                for chunk in deterministic_chunks(blob.seed, blob.size):
                    f.write(chunk)
                    digest.update(chunk)
            blob._md5 = digest.hexdigest()

    def from_json(self, data: dict[str, object]) -> Blob:
        seed = data.get("seed")
        return Blob(
            key=str(data["key"]),
            size=int(str(data["size"])),
            store=self,
            seed=int(str(seed)) if seed is not None else None,
            _md5=str(data.get("md5") or ""),
        )


def deterministic_chunks(seed: int, size: int, chunk: int = 1024 * 1024) -> Iterator[bytes]:
    """`size` pseudo-random bytes, the same for the same seed (tests compare them)."""
    rng = random.Random(seed)  # noqa: S311 (test data, not a secret)
    left = size
    while left > 0:
        n = min(chunk, left)
        yield rng.randbytes(n)
        left -= n


def deterministic_bytes(seed: int, size: int) -> bytes:
    return b"".join(deterministic_chunks(seed, size))


# -- multipart/form-data, read as a stream ------------------------------------------------------


@dataclass
class Upload:
    filename: str
    content_type: str
    blob: Blob


class _Reader:
    def __init__(self, stream: BinaryIO, length: int) -> None:
        self.stream, self.left, self.buf = stream, length, b""

    def fill(self) -> bool:
        if self.left <= 0:
            return False
        data = self.stream.read(min(CHUNK, self.left))
        if not data:
            self.left = 0
            return False
        self.left -= len(data)
        self.buf += data
        return True

    def until(self, sep: bytes) -> Iterator[bytes]:
        """Yield the bytes before `sep` (in pieces), consuming `sep`."""
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                yield self.buf[:i]
                self.buf = self.buf[i + len(sep) :]
                return
            keep = len(sep) - 1
            if len(self.buf) > keep:
                yield self.buf[: len(self.buf) - keep]
                self.buf = self.buf[len(self.buf) - keep :]
            if not self.fill():
                raise MultipartError("the multipart body ended early")

    def take(self, n: int) -> bytes:
        while len(self.buf) < n and self.fill():
            pass
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def read_multipart(
    stream: BinaryIO, length: int, content_type: str, store: FileStore
) -> tuple[dict[str, str], Upload | None]:
    """The text fields and the (first) file part of a multipart/form-data body; the file's bytes go
    straight to `store`, a chunk at a time."""
    boundary = _boundary(content_type)
    reader = _Reader(stream, length)
    for _ in reader.until(b"--" + boundary):
        pass  # the preamble
    form: dict[str, str] = {}
    upload: Upload | None = None
    while reader.take(2) != b"--":
        head = b"".join(reader.until(b"\r\n\r\n"))
        if len(head) > MAX_HEADER_BYTES:
            raise MultipartError("a part's headers are too long")
        name, filename, ctype = _part_headers(head)
        body = reader.until(b"\r\n--" + boundary)
        if filename is not None and upload is None:
            upload = Upload(filename, ctype or "application/octet-stream", store.put(body))
            continue
        value = b"".join(body)
        if len(value) > MAX_FORM_VALUE:
            raise MultipartError("a form field is too long")
        if name:
            form[name] = value.decode("utf-8", "replace")
    return form, upload


def _boundary(content_type: str) -> bytes:
    for piece in content_type.split(";")[1:]:
        key, _, value = piece.strip().partition("=")
        if key.lower() == "boundary" and value:
            return value.strip('"').encode()
    raise MultipartError("no multipart boundary")


def _part_headers(head: bytes) -> tuple[str, str | None, str]:
    name, filename, ctype = "", None, ""
    for line in head.decode("utf-8", "replace").split("\r\n"):
        key, _, value = line.partition(":")
        if key.strip().lower() == "content-type":
            ctype = value.strip()
        if key.strip().lower() != "content-disposition":
            continue
        for param in value.split(";")[1:]:
            k, _, v = param.strip().partition("=")
            if k.lower() == "name":
                name = v.strip('"')
            elif k.lower() == "filename":
                filename = v.strip('"')
    return name, filename, ctype
