"""VaultFiles: object record attachments, streamed (docs/files-api.md, "Vault").

Reference: https://limited.veevavault.dev/vault-api/api-reference/25.2/vault-objects/object-record-attachments/
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from records.connectors import vault_parse as vp
from records.connectors.base import Attachment
from records.connectors.errors import NotFound, Rejected, Unavailable
from records.connectors.http import iter_body
from records.connectors.uploads import MultipartBody, Source, seekable_source
from records.connectors.vault_api import VaultApi
from records.connectors.vault_metadata import VaultMetadata


@contextlib.contextmanager
def file_bytes(api: VaultApi, path: str) -> Iterator[Iterator[bytes]]:
    """A file's bytes from a Vault download `path`, a chunk at a time; a JSON answer instead of
    the file is Vault's error envelope, raised."""
    response, body = api.send("GET", path, safe=True, stream=True, headers={"Accept": "*/*"})
    try:
        if body is not None:
            vp.check(body, write=False)
            raise Unavailable("Vault answered the download without a file.", error_type="NO_FILE")
        yield iter_body(response)
    finally:
        response.close()


class VaultFiles:
    def __init__(self, api: VaultApi, metadata: VaultMetadata) -> None:
        self.api = api
        self.metadata = metadata

    def allows_attachments(self, object_name: str) -> bool:
        # Retrieve Object Metadata: `allow_attachments` (cached with the object's describe).
        return bool(self.metadata.raw(object_name).get("allow_attachments"))  # no picklists needed

    def attachments(self, object_name: str, record_id: str) -> list[Attachment]:
        # Retrieve Object Record Attachments: the latest version of each, with size and MD5.
        body = self.api.call("GET", self._path(object_name, record_id))
        return [attachment(item) for item in vp.rows(body)]

    @contextlib.contextmanager
    def download(self, object_name: str, record_id: str, attachment_id: str) -> Iterator[Iterator[bytes]]:
        # Download Object Record Attachment File: the latest version's bytes.
        path = self._path(object_name, record_id, attachment_id, "file")
        # The session's default Accept is JSON; a file answer is not ([UNCONFIRMED] whether Vault
        # minds, so ask for anything).
        with file_bytes(self.api, path) as chunks:
            yield chunks

    def upload(self, object_name: str, record_id: str, name: str, stream: Source, size: int | None) -> str:
        # Create Object Record Attachment: multipart `file`. Vault adds a new version when the name
        # is taken, and nothing when the MD5 equals an existing attachment's (documented).
        with seekable_source(stream, size) as (source, length):
            part = MultipartBody(source, length, filename=name)
            body = self.api.call(
                "POST",
                self._path(object_name, record_id),
                safe=False,
                write=True,
                data=part,
                headers={"Content-Type": part.content_type},
                rewind=part.rewind,
            )
        return _created_id(body)

    def delete(self, object_name: str, record_id: str, attachment_id: str) -> None:
        # Delete Object Record Attachment (every version). Repeating it is harmless: safe.
        try:
            self.api.call("DELETE", self._path(object_name, record_id, attachment_id), safe=True, write=True)
        except Rejected as exc:
            if "does not exist" in exc.message.lower():
                raise NotFound(exc.message, error_type=exc.error_type) from exc
            raise

    @staticmethod
    def _path(object_name: str, record_id: str, *parts: str) -> str:
        names = [vp.vql_name(object_name), quote(record_id, safe=""), "attachments"]
        return "vobjects/" + "/".join(names + [quote(p, safe="") for p in parts])


def attachment(item: dict[str, Any]) -> Attachment:
    """One attachment of Retrieve Object Record Attachments as an Attachment."""
    return Attachment(
        id=str(item.get("id") or ""),
        name=str(item.get("filename__v") or ""),
        size=vp.to_int(item.get("size__v")) or 0,
        created=vp.parse_datetime(item.get("created_date__v")),
        created_by=str(item.get("created_by__v") or ""),
        content_type=str(item.get("format__v") or ""),
        md5=str(item.get("md5checksum__v") or ""),
        version=vp.to_int(item.get("version__v")),
    )


def _created_id(body: dict[str, Any]) -> str:
    data = body.get("data")
    item = data[0] if isinstance(data, list) and data else data  # documented as a list, older as one object
    if not isinstance(item, dict) or not item.get("id"):
        raise vp.lost(True, "Vault's answer to the upload named no attachment.")
    return str(item["id"])
