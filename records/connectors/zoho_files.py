"""ZohoFiles: a record's attachments and the Files API behind file/image upload fields, streamed
(docs/files-api.md, "Zoho CRM").

References: https://www.zoho.com/crm/developer/docs/api/v8/get-attachments.html ,
https://zoho.com/crm/developer/docs/api/v8/download-attachments.html ,
https://www.zoho.com/crm/developer/docs/api/v8/upload-files-to-zfs.html
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from records.connectors import zoho_parse as zp
from records.connectors.base import Attachment
from records.connectors.errors import NotFound, Rejected
from records.connectors.uploads import MultipartBody, Source, seekable_source
from records.connectors.zoho_api import ZohoApi

# Get Attachments: `fields` is mandatory since v3; these are what a copy needs.
ATTACHMENT_FIELDS = "id,File_Name,Size,Created_Time,Created_By,$file_id"
PER_PAGE = 200  # [UNCONFIRMED] the largest page of Get Attachments (Get Records' limit)


class ZohoFiles:
    def __init__(self, api: ZohoApi) -> None:
        self.api = api

    def attachments(self, module: str, record_id: str) -> list[Attachment]:
        out: list[Attachment] = []
        page = 1
        while True:
            params = {"fields": ATTACHMENT_FIELDS, "page": page, "per_page": PER_PAGE}
            status, body = self.api.call(
                "GET", self.api.module_path(module, record_id, "Attachments"), safe=True, params=params
            )
            if status == 204 or body is None:  # §4.1: no attachments answers 204 without a body
                return out
            out += [attachment(item) for item in zp.list_in(body, "data") if isinstance(item, dict)]
            if not zp.dict_in(body, "info").get("more_records"):
                return out
            page += 1

    def download(
        self, module: str, record_id: str, attachment_id: str
    ) -> contextlib.AbstractContextManager[Iterator[bytes]]:
        return self.api.download(self.api.module_path(module, record_id, "Attachments", attachment_id))

    def upload(self, module: str, record_id: str, name: str, stream: Source, size: int | None) -> str:
        return self._upload(self.api.module_path(module, record_id, "Attachments"), name, stream, size)

    def delete(self, module: str, record_id: str, attachment_id: str) -> None:
        path = self.api.module_path(module, record_id, "Attachments", attachment_id)
        try:
            _, body = self.api.call("DELETE", path, safe=True, write=True)
        except Rejected as exc:
            if exc.error_type == "INVALID_DATA":  # the sandbox's (and [UNCONFIRMED] Zoho's) answer
                raise NotFound(exc.message, error_type=exc.error_type) from exc
            raise
        _result_id(body)

    def upload_file(self, stream: Source, name: str, size: int | None) -> str:
        # Upload Files to ZFS: the encrypted id a file/image upload field takes as File_Id__s.
        return self._upload("files", name, stream, size)

    def download_file(self, file_id: str) -> contextlib.AbstractContextManager[Iterator[bytes]]:
        # Get Files: GET /files?id={encrypted id}.
        return self.api.download("files", params={"id": file_id})

    def _upload(self, path: str, name: str, stream: Source, size: int | None) -> str:
        with seekable_source(stream, size) as (source, length):
            part = MultipartBody(source, length, filename=name)
            _, body = self.api.call(
                "POST",
                path,
                safe=False,
                write=True,
                data=part,
                headers={"Content-Type": part.content_type},
                rewind=part.rewind,
            )
        return _result_id(body)


def attachment(item: dict[str, Any]) -> Attachment:
    """One entry of Get Attachments as an Attachment (Zoho gives no checksum)."""
    size = item.get("Size")
    return Attachment(
        id=str(item.get("id") or ""),
        name=str(item.get("File_Name") or ""),
        size=int(str(size)) if str(size or "").isdigit() else 0,
        created=zp.parse_datetime(item.get("Created_Time")),
        created_by=zp.lookup_id(item.get("Created_By")),
    )


def _result_id(body: Any) -> str:
    entries = zp.list_in(body, "data")
    result = zp.write_result(entries[0] if entries else None)
    if not result.ok:
        raise Rejected(result.error_message, error_type=result.error_type)
    return result.new_id
