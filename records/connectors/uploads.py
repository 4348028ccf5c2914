"""A file upload's body, streamed: never a whole file in memory (no HTTP here).

Both systems take files as multipart/form-data with one `file` part (docs/files-api.md).
`requests` would build such a body in memory (`files=`), so `MultipartBody` is a file-like object
that reads its source a block at a time as http.client sends it, and tells its length, so the
request carries a Content-Length (both APIs and the sandbox expect one; no chunked upload).
A retry needs the body again from its start: the source must be seekable. One that is not
(a download from the other system, a generator) is first copied to a temporary file on disk,
a chunk at a time (`seekable_source`).
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, BinaryIO, Union

CHUNK = 256 * 1024

# What an upload reads: a binary file object, or an iterable of byte chunks (a download's).
Source = Union[BinaryIO, IO[bytes], Iterable[bytes]]  # noqa: UP007 (a runtime alias)


class MultipartBody:
    """`--boundary`, the part's headers, the source's `size` bytes, the closing boundary."""

    def __init__(
        self, source: IO[bytes], size: int, *, filename: str, field: str = "file", form: dict[str, str] | None = None
    ) -> None:
        """`form`: text parts sent before the file (Vault's file staging: kind, path, overwrite)."""
        self.source = source
        self.size = size
        self._start = source.tell()
        boundary = secrets.token_hex(16)
        safe_name = _quoted(filename)
        self.content_type = f"multipart/form-data; boundary={boundary}"
        texts = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(k)}"\r\n\r\n{v}\r\n'
            for k, v in (form or {}).items()
        )
        self._head = (
            texts + f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{safe_name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self._pos = 0

    def __len__(self) -> int:
        return len(self._head) + self.size + len(self._tail)

    def rewind(self) -> None:
        self.source.seek(self._start)
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        """Up to `n` bytes (a block when n < 0) of the body, from wherever the last read stopped."""
        n = CHUNK if n is None or n < 0 else n
        out = b""
        while len(out) < n and self._pos < len(self):
            out += self._next(n - len(out))
        return out

    def _next(self, n: int) -> bytes:
        head, body_end = len(self._head), len(self._head) + self.size
        if self._pos < head:
            piece = self._head[self._pos : self._pos + n]
        elif self._pos < body_end:
            piece = self.source.read(min(n, body_end - self._pos))
            if not piece:
                raise ValueError("The file ended before its stated size.")
        else:
            piece = self._tail[self._pos - body_end : self._pos - body_end + n]
        self._pos += len(piece)
        return piece


def _quoted(text: str) -> str:
    return text.replace('"', "%22").replace("\r", " ").replace("\n", " ")


@contextlib.contextmanager
def seekable_source(source: Source, size: int | None) -> Iterator[tuple[IO[bytes], int]]:
    """The source as a seekable file and its size: a seekable file of known size as it is,
    anything else copied to a temporary file first (removed when the block ends)."""
    if _seekable(source) and size is not None:
        yield source, size  # type: ignore[misc]
        return
    with tempfile.TemporaryFile() as spool:
        written = 0
        for chunk in _chunks(source):
            spool.write(chunk)
            written += len(chunk)
        spool.seek(0)
        yield spool, written


def _seekable(source: Source) -> bool:
    seekable = getattr(source, "seekable", None)
    return callable(seekable) and bool(seekable())


def _chunks(source: Source) -> Iterator[bytes]:
    read = getattr(source, "read", None)
    if callable(read):
        while chunk := read(CHUNK):
            yield chunk
        return
    for chunk in source:
        if chunk:
            yield bytes(chunk)
