"""Vault Attachment fields through the connector, over real HTTP against the sandbox
(docs/files-api.md, "Vault: attachment fields"): the field's file downloaded, a file staged, and a
record write that names the staging path moving the file onto the field."""

import hashlib

import pytest

from records.connectors.base import FieldType
from records.connectors.errors import Rejected
from tests.fixtures.sandbox import find_record

pytestmark = pytest.mark.django_db


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()  # a checksum, not a secret


def _chunks(data: bytes, size: int = 7_000):
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _field_file(conn, record_id) -> bytes:
    with conn.download_file_field("packaging__c", record_id, "artwork__c", "") as chunks:
        return b"".join(chunks)


def test_the_artwork_field_is_an_attachment_field_read_as_its_file_name(vault):
    conn = vault.connector
    first = find_record(conn, "packaging__c", "PKG-000061")

    types = {f.name: f.type for f in conn.describe("packaging__c")}
    value = conn.get("packaging__c", first).fields["artwork__c"]

    assert types["artwork__c"] == FieldType.FILE
    assert conn.file_field_files(value) == [("artwork.pdf", "artwork.pdf")]


def test_the_field_file_downloads_as_the_sandbox_holds_it(vault):
    conn = vault.connector
    first = find_record(conn, "packaging__c", "PKG-000061")

    data = _field_file(conn, first)

    name, size, md5 = vault.sandbox.vault.files.fields.held("packaging__c", first, "artwork__c")
    assert (name, len(data), _md5(data)) == ("artwork.pdf", size, md5) and size == 40_000


def test_a_staged_file_set_by_an_update_moves_onto_the_field(vault):
    conn = vault.connector
    empty = find_record(conn, "packaging__c", "PKG-000004")
    data = bytes(range(256)) * 800

    path = conn.upload_file(_chunks(data), "new art.pdf", key="job1-7")
    [outcome] = conn.update("packaging__c", [{"id": empty, "artwork__c": conn.file_field_value([path])}])

    assert outcome.ok, outcome.error_message
    assert path == "/record-copier/job1-7/new art.pdf"
    assert conn.file_field_holds(conn.get("packaging__c", empty).fields["artwork__c"], [path])
    assert _field_file(conn, empty) == data
    assert path not in vault.sandbox.vault.files.fields.staged_paths()  # the write consumed it


def test_staging_again_with_the_same_key_replaces_the_file_never_adds_one(vault):
    conn = vault.connector

    first = conn.upload_file([b"one"], "a.txt", key="k")
    second = conn.upload_file([b"two!"], "a.txt", key="k")

    assert first == second
    assert vault.sandbox.vault.files.fields.staged_paths().count(first) == 1


def test_a_write_naming_nothing_staged_is_refused_for_that_row(vault):
    conn = vault.connector
    empty = find_record(conn, "packaging__c", "PKG-000004")

    [outcome] = conn.update("packaging__c", [{"id": empty, "artwork__c": "/record-copier/none/x.pdf"}])

    assert not outcome.ok and "file staging" in outcome.error_message


def test_a_file_over_fifty_mb_is_refused_before_it_is_sent(vault):
    class Big:
        def seekable(self):
            return True

    with pytest.raises(Rejected, match="50 MB"):
        vault.connector.upload_file(Big(), "huge.bin", 51 * 1024 * 1024, key="big")
