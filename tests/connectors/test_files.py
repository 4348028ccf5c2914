"""Attachments and file fields through the connectors, over real HTTP against the sandbox
(docs/files-api.md): list, download in chunks, upload from a stream, delete, the Files API."""

import hashlib

import pytest

from records.connectors.errors import NotFound, OutcomeUnknown, Rejected
from tests.fixtures.sandbox import find_record

ATTACHMENTS = r"/attachments/?$"


def _chunks(data: bytes, size: int = 7_000):
    """A generator source: it can be read once, in pieces, and has no length."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()  # Vault's checksum, not a secret


def _download(connector, *args) -> list[bytes]:
    with connector.download_attachment(*args) as chunks:
        return list(chunks)


def test_vault_lists_a_records_attachments_with_size_md5_and_creation(neurolax):
    listed = neurolax.connector.attachments("product__v", neurolax.record_id)

    assert [(a.name, a.size) for a in listed] == [
        ("label.txt", 1_024),
        ("stability-study.pdf", 300_000),
        ("dossier.zip", 20 * 1024 * 1024),
    ]
    assert all(len(a.md5) == 32 and a.created is not None and a.version == 1 for a in listed)


def test_vault_download_comes_in_chunks_equal_to_the_stored_file(neurolax):
    study = neurolax.connector.attachments("product__v", neurolax.record_id)[1]

    pieces = _download(neurolax.connector, "product__v", neurolax.record_id, study.id)

    data = b"".join(pieces)
    assert len(pieces) > 1 and len(data) == study.size
    assert _md5(data) == study.md5


def test_vault_upload_from_a_generator_is_listed_and_downloads_the_same_bytes(neurolax):
    conn, rid = neurolax.connector, neurolax.record_id
    data = bytes(range(256)) * 4_000  # 1 MB, more than one block of the body

    new_id = conn.upload_attachment("product__v", rid, "upload.bin", _chunks(data))

    added = next(a for a in conn.attachments("product__v", rid) if a.id == new_id)
    assert (added.name, added.size, added.md5) == ("upload.bin", len(data), _md5(data))
    assert b"".join(_download(conn, "product__v", rid, new_id)) == data


def test_vault_upload_of_a_file_object_with_its_size_goes_straight_out(neurolax, tmp_path):
    path = tmp_path / "plain.txt"
    path.write_bytes(b"plain text\n" * 1000)

    with path.open("rb") as f:
        new_id = neurolax.connector.upload_attachment("product__v", neurolax.record_id, "plain.txt", f, 11_000)

    added = next(a for a in neurolax.connector.attachments("product__v", neurolax.record_id) if a.id == new_id)
    assert added.size == 11_000


def test_vault_upload_is_sent_whole_again_after_a_429(neurolax):
    conn, rid, sb = neurolax.connector, neurolax.record_id, neurolax.sandbox
    conn.attachments("product__v", rid)  # the session first, so the faults meet the upload
    before = len(conn.attachments("product__v", rid))
    sb.faults("vault").set(p429=0.5, seed=3)
    data = b"retried " * 50_000

    new_id = conn.upload_attachment("product__v", rid, "retried.txt", _chunks(data))

    sb.faults("vault").clear()
    refused = [e for e in sb.log("vault") if e.method == "POST" and e.path.endswith("/attachments")]
    assert [e.outcome for e in refused][0] == "fault_429"
    listed = conn.attachments("product__v", rid)
    assert len(listed) == before + 1
    added = next(a for a in listed if a.id == new_id)
    assert added.md5 == _md5(data)


def test_vault_upload_whose_answer_is_lost_raises_outcome_unknown_and_exists_once(neurolax):
    conn, rid = neurolax.connector, neurolax.record_id
    before = len(conn.attachments("product__v", rid))
    neurolax.sandbox.hooks("vault").lose("POST", ATTACHMENTS, applied=True)

    with pytest.raises(OutcomeUnknown):
        conn.upload_attachment("product__v", rid, "lost.txt", _chunks(b"lost answer" * 100))

    names = [a.name for a in conn.attachments("product__v", rid)]
    assert len(names) == before + 1 and names.count("lost.txt") == 1


def test_vault_delete_removes_the_attachment_and_a_second_delete_is_not_found(neurolax):
    conn, rid = neurolax.connector, neurolax.record_id
    label = conn.attachments("product__v", rid)[0]

    conn.delete_attachment("product__v", rid, label.id)

    assert label.id not in [a.id for a in conn.attachments("product__v", rid)]
    with pytest.raises(NotFound):
        conn.delete_attachment("product__v", rid, label.id)


def test_vault_object_metadata_says_which_objects_allow_attachments(vault):
    assert vault.connector.allows_attachments("product__v") is True
    assert vault.connector.allows_attachments("packaging__c") is False


def test_zoho_lists_downloads_uploads_and_deletes_a_records_attachments(globex):
    conn, rid = globex.connector, globex.record_id
    listed = conn.attachments("Accounts", rid)
    assert [(a.name, a.size) for a in listed] == [
        ("contract.pdf", 52_000),
        ("logo.png", 4_096),
        ("archive.zip", 20 * 1024 * 1024),
    ]
    assert all(a.created is not None and a.created_by for a in listed)
    assert len(b"".join(_download(conn, "Accounts", rid, listed[0].id))) == 52_000

    data = b"zoho attachment " * 40_000
    new_id = conn.upload_attachment("Accounts", rid, "added.txt", _chunks(data))
    added = next(a for a in conn.attachments("Accounts", rid) if a.id == new_id)
    assert (added.name, added.size) == ("added.txt", len(data))
    assert b"".join(_download(conn, "Accounts", rid, new_id)) == data

    conn.delete_attachment("Accounts", rid, new_id)
    assert new_id not in [a.id for a in conn.attachments("Accounts", rid)]
    with pytest.raises(NotFound):
        conn.delete_attachment("Accounts", rid, new_id)


def test_zoho_record_without_attachments_lists_none(zoho):
    rid = find_record(zoho.connector, "Accounts", "Initech")

    assert zoho.connector.attachments("Accounts", rid) == []


def test_zoho_files_api_upload_gives_the_id_a_file_field_takes(zoho):
    conn = zoho.connector
    data = b"\x89PNG" + bytes(range(256)) * 100

    file_id = conn.upload_file(_chunks(data, 1000), "photo.png")

    contact = conn.search("Contacts", "Contact 1").records[0].id
    conn.update("Contacts", [{"id": contact, "Photo_File": [{"File_Id__s": file_id}]}])
    held = conn.get("Contacts", contact).fields["Photo_File"]
    assert held[0]["File_Id__s"] == file_id
    with conn.download_file_field("Contacts", contact, "Photo_File", file_id) as chunks:
        assert b"".join(chunks) == data


def test_zoho_files_api_refuses_a_file_over_its_limit(zoho):
    too_big = (b"x" * (1024 * 1024) for _ in range(21))

    with pytest.raises(Rejected) as refused:
        zoho.connector.upload_file(too_big, "big.bin")

    assert refused.value.error_type == "FILE_SIZE_MORE_THAN_ALLOWED"


def test_zoho_file_field_of_a_demo_contact_downloads(zoho):
    conn = zoho.connector
    rows = conn.search("Contacts", "Contact 4").records
    file_id = conn.get("Contacts", rows[0].id).fields["Photo_File"][0]["File_Id__s"]

    with conn.download_file_field("Contacts", rows[0].id, "Photo_File", file_id) as chunks:
        assert len(b"".join(chunks)) > 2_000


def test_vault_download_logs_in_again_when_the_session_expired(neurolax):
    conn, rid = neurolax.connector, neurolax.record_id
    label = conn.attachments("product__v", rid)[0]
    neurolax.sandbox.vault.expire_sessions()

    assert len(b"".join(_download(conn, "product__v", rid, label.id))) == label.size == 1_024


def test_zoho_download_and_upload_refresh_an_expired_token(globex):
    conn, rid, sb = globex.connector, globex.record_id, globex.sandbox
    logo = conn.attachments("Accounts", rid)[1]
    sb.zoho.expire_tokens()
    assert len(b"".join(_download(conn, "Accounts", rid, logo.id))) == 4_096

    sb.zoho.expire_tokens()
    data = b"sent twice, whole both times " * 1_000
    new_id = conn.upload_attachment("Accounts", rid, "after-401.txt", _chunks(data))

    refused = [e for e in sb.log("zoho") if e.method == "POST" and e.path.endswith("/Attachments")]
    assert [e.status for e in refused] == [401, 200]
    assert b"".join(_download(conn, "Accounts", rid, new_id)) == data
