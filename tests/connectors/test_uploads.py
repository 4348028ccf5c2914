"""The streamed multipart body of an upload (records/connectors/uploads.py), read back by the
sandbox's own streaming parser."""

import io

import pytest

from records.connectors.uploads import MultipartBody, seekable_source
from sandbox.files import FileStore, read_multipart


def _read_all(body: MultipartBody, block: int) -> bytes:
    out = []
    while piece := body.read(block):
        out.append(piece)
    return b"".join(out)


def test_body_has_the_length_it_says_and_parses_back_to_the_file():
    data = bytes(range(256)) * 1_000
    body = MultipartBody(io.BytesIO(data), len(data), filename='odd "name".bin')

    raw = _read_all(body, 16_384)

    assert len(raw) == len(body)
    form, upload = read_multipart(io.BytesIO(raw), len(raw), body.content_type, FileStore())
    assert upload is not None and upload.filename == "odd %22name%22.bin"
    assert upload.blob.path.read_bytes() == data


def test_rewind_sends_the_same_bytes_again():
    source = io.BytesIO(b"head" + b"file bytes" * 100)
    source.seek(4)  # a body starts where its source stands
    body = MultipartBody(source, 1_000, filename="f.txt")

    first = _read_all(body, 333)
    body.rewind()

    assert _read_all(body, 4_096) == first and b"head" not in first


def test_a_source_shorter_than_its_size_is_refused():
    body = MultipartBody(io.BytesIO(b"short"), 10, filename="f.txt")

    with pytest.raises(ValueError, match="ended before"):
        _read_all(body, 1_024)


def test_a_generator_is_copied_to_a_temporary_file_and_a_seekable_file_is_not():
    pieces = (bytes([n]) * 1_000 for n in range(5))
    with seekable_source(pieces, None) as (spooled, size):
        assert size == 5_000 and spooled.read() == b"".join(bytes([n]) * 1_000 for n in range(5))

    plain = io.BytesIO(b"x" * 10)
    with seekable_source(plain, 10) as (same, size):
        assert same is plain and size == 10
