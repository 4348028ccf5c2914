"""VaultFieldFiles: Attachment fields, streamed (docs/files-api.md, "Vault: attachment fields").

An Attachment field is read with Download Attachment Field File and set by a record create or
update whose value is a path on the vault's file staging (api-notes vault.md §4.1: "Attachment
fields take a file-staging path (≤ 100 MB)"); the file gets there with Create Folder or File.
References:
https://limited.veevavault.dev/vault-api/api-reference/25.1/vault-objects/attachment-fields/download-attachment-field-file/
https://limited.veevavault.dev/vault-api/api-reference/22.1/file-staging/create-folder-or-file/
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from records.connectors import vault_parse as vp
from records.connectors.errors import Rejected
from records.connectors.uploads import MultipartBody, Source, seekable_source
from records.connectors.vault_api import VaultApi
from records.connectors.vault_files import file_bytes

# Create Folder or File takes up to 50 MB; a larger file needs a resumable upload session (not
# built: an Attachment field holds at most 100 MB, and the copy refuses the file with this size).
STAGING_MAX_BYTES = 50 * 1024 * 1024
STAGING_FOLDER = "record-copier"
_UNSAFE = re.compile(r"[/\\\x00-\x1f]")


class VaultFieldFiles:
    def __init__(self, api: VaultApi) -> None:
        self.api = api

    @contextlib.contextmanager
    def download(self, object_name: str, record_id: str, field_name: str) -> Iterator[Iterator[bytes]]:
        # Download Attachment Field File: the file, its MIME type as Content-Type.
        names = [vp.vql_name(object_name), quote(record_id, safe=""), "attachment_fields", vp.vql_name(field_name)]
        path = "vobjects/" + "/".join(names) + "/file"
        with file_bytes(self.api, path) as chunks:
            yield chunks

    def stage(self, stream: Source, name: str, size: int | None, key: str) -> str:
        """Put the file on file staging and return its path, the value the field takes. The path
        is made from `key` (the caller's, the same on every retry) and `overwrite=true`, so sending
        it again after a lost answer replaces the staged file: safe to repeat, never two."""
        path = f"/{STAGING_FOLDER}/{_UNSAFE.sub('-', key) or 'file'}/{_UNSAFE.sub('-', name) or 'file'}"
        with seekable_source(stream, size) as (source, length):
            if length > STAGING_MAX_BYTES:
                raise Rejected(
                    f"The file {name} is larger than 50 MB: Vault's file staging takes it only in a "
                    "resumable upload session, which this app does not use.",
                    error_type="FILE_TOO_LARGE",
                )
            form = {"kind": "file", "path": path, "overwrite": "true"}
            part = MultipartBody(source, length, filename=name, form=form)
            body = self.api.call(
                "POST",
                "services/file_staging/items",
                safe=True,
                write=True,
                data=part,
                headers={"Content-Type": part.content_type},
                rewind=part.rewind,
            )
        return _staged_path(body, path)


def _staged_path(body: dict[str, Any], asked: str) -> str:
    data = body.get("data")
    staged = data.get("path") if isinstance(data, dict) else None
    return str(staged or asked)


def field_files(value: Any) -> list[tuple[str, str]]:
    """(id, name) of the file an Attachment field's value holds. [UNCONFIRMED] a record read holds
    the field as the file's name (no page shows it): that name is both."""
    text = str(value).strip() if isinstance(value, (str, int)) else ""
    return [(text, text)] if text else []


def holds(value: Any, staged_paths: list[str]) -> bool:
    """Whether the field holds the file staged at the (last of) these paths: the staged file is
    consumed by the write, so its name is what shows."""
    held = [name for _, name in field_files(value)]
    return bool(held and staged_paths) and held[-1] == staged_paths[-1].rsplit("/", 1)[-1]
