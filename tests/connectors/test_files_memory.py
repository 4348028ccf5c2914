"""A 20 MB attachment downloaded and uploaded again as a stream: the test process (the client
and the sandbox's servers, which run in it) never holds the file in memory."""

import hashlib
import tracemalloc

from tests.fixtures.sandbox import find_record

TWENTY_MB = 20 * 1024 * 1024
PEAK_LIMIT = 10 * 1024 * 1024


def test_vault_twenty_mb_download_and_upload_keep_memory_flat(vault):
    _copy_twenty_mb(vault.connector, "product__v", "Neurolax", "Cardiostat")


def test_zoho_twenty_mb_download_and_upload_keep_memory_flat(zoho):
    _copy_twenty_mb(zoho.connector, "Accounts", "Globex", "Initech")


def _copy_twenty_mb(conn, obj, source_name, target_name):
    source, target = find_record(conn, obj, source_name), find_record(conn, obj, target_name)
    big = next(a for a in conn.attachments(obj, source) if a.size == TWENTY_MB)
    conn.attachments(obj, target)  # sessions and connections first: not part of the measure
    digest = hashlib.md5(usedforsecurity=False)

    def passing_through(chunks):
        for chunk in chunks:
            digest.update(chunk)
            yield chunk

    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        with conn.download_attachment(obj, source, big.id) as chunks:
            new_id = conn.upload_attachment(obj, target, "copy.zip", passing_through(chunks), big.size)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()

    copied = next(a for a in conn.attachments(obj, target) if a.id == new_id)
    assert copied.size == TWENTY_MB
    if big.md5:  # Vault gives the checksum; Zoho does not
        assert digest.hexdigest() == big.md5 == copied.md5
    assert peak < PEAK_LIMIT, f"peak memory grew by {peak / 1e6:.1f} MB"
