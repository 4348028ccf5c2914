"""Vault attachment fields and file staging in the emulator (docs/files-api.md, "Vault: attachment
fields").

Create Folder or File (`POST services/file_staging/items`, multipart: `kind`, `path`, `overwrite`,
`file`; ≤ 50 MB) keeps a file on the staging server by its path; Download Attachment Field File
(`GET vobjects/{object}/{id}/attachment_fields/{field}/file`) answers the file an Attachment field
holds. A record create or update whose Attachment field names a staging path moves the staged file
onto the record's field (VaultState.apply_row calls `attach`); the record's value is the file name.
References:
https://limited.veevavault.dev/vault-api/api-reference/22.1/file-staging/create-folder-or-file/
https://limited.veevavault.dev/vault-api/api-reference/25.1/vault-objects/attachment-fields/download-attachment-field-file/
"""

from __future__ import annotations

import threading
from typing import Any

from sandbox.files import Blob, FileAnswer, FileStore, MultipartError, read_multipart
from sandbox.vault_state import VaultError

STAGING_MAX_BYTES = 50 * 1024 * 1024  # Create Folder or File: larger files take a resumable session
# Demo files in the Attachment field packaging__c.artwork__c: the n-th demo packaging -> (name, size);
# the first three of Dermacalm's (PKG-000061..63), whose country the target vault has too.
DEMO_FIELD_FILES: dict[int, tuple[str, int]] = {
    60: ("artwork.pdf", 40_000),
    61: ("carton.png", 6_000),
    62: ("insert.pdf", 120_000),
}
DEMO_FIELD = ("packaging__c", "artwork__c")
SEED = 3000


class VaultFieldFiles:
    def __init__(self, app: Any, store: FileStore) -> None:
        self.app = app
        self.store = store
        self.lock = threading.Lock()
        self.staged: dict[str, dict[str, Any]] = {}  # staging path -> {"name", "blob"}
        self.fields: dict[str, dict[str, Any]] = {}  # "object/record/field" -> {"name", "blob"}

    def load_demo(self, records: dict[str, dict[str, dict[str, Any]]]) -> None:
        obj, field = DEMO_FIELD
        ids = list(records.get(obj, {}))
        for index, (name, size) in DEMO_FIELD_FILES.items():
            if index < len(ids) and field in records[obj][ids[index]]:
                records[obj][ids[index]][field] = name
                blob = self.store.lazy(seed=SEED + index, size=size)
                self.fields[f"{obj}/{ids[index]}/{field}"] = {"name": name, "blob": blob}

    def to_json(self) -> dict[str, Any]:
        with self.lock:
            return {
                kind: {k: {"name": v["name"], "blob": v["blob"].to_json()} for k, v in items.items()}
                for kind, items in (("staged", self.staged), ("fields", self.fields))
            }

    def load_json(self, data: dict[str, Any]) -> None:
        with self.lock:
            for kind, items in (("staged", self.staged), ("fields", self.fields)):
                items.clear()
                for key, v in data.get(kind, {}).items():
                    items[key] = {"name": v["name"], "blob": self.store.from_json(v["blob"])}

    # -- the routes -----------------------------------------------------------------------------
    def stage(self, req: Any) -> dict[str, Any]:
        """Create Folder or File: a file (kind=file) at `path`; `overwrite=true` replaces one there."""
        try:
            form, upload = read_multipart(req.stream, req.length, req.content_type, self.store)
        except MultipartError as exc:
            raise VaultError("INVALID_DATA", f"Could not read the upload: {exc}") from None
        path = "/" + form.get("path", "").lstrip("/")
        if form.get("kind") != "file" or upload is None or path == "/":
            raise VaultError("PARAMETER_REQUIRED", "Missing required parameter [kind=file, path, file]")
        if upload.blob.size > STAGING_MAX_BYTES:
            # [UNCONFIRMED] the error of a file over 50 MB: the page sends those to resumable sessions.
            raise VaultError("INVALID_DATA", "The file is larger than 50 MB: use a resumable upload session")
        with self.lock:
            if path in self.staged and form.get("overwrite", "").lower() != "true":
                # [UNCONFIRMED] the error when the path is taken and overwrite is not true.
                raise VaultError("INVALID_DATA", f"A file already exists at [{path}]")
            name = path.rsplit("/", 1)[-1]
            self.staged[path] = {"name": name, "blob": upload.blob}
        data = {"kind": "file", "path": path, "name": name, "size": upload.blob.size}
        return {"responseStatus": "SUCCESS", "data": {**data, "file_content_md5": upload.blob.md5}}

    def download(self, req: Any, obj: str, rid: str, field: str) -> FileAnswer:
        with self.app.state.lock:
            exists = rid in self.app.state.records.get(obj, {})
            fdef = self.app.state.schema[obj].get(field) if obj in self.app.state.schema else None
        if not exists:
            raise VaultError("INVALID_DATA", f"The resource [{rid}] does not exist")
        if fdef is None or fdef.type != "Attachment":
            raise VaultError("INVALID_DATA", f"Field [{field}] is not an attachment field of [{obj}]")
        with self.lock:
            held = self.fields.get(f"{obj}/{rid}/{field}")
        if held is None:
            # [UNCONFIRMED] the answer for an empty attachment field.
            raise VaultError("INVALID_DATA", f"Field [{field}] of [{rid}] holds no file")
        blob: Blob = held["blob"]
        return FileAnswer(blob.chunks(), blob.size, "application/octet-stream;charset=UTF-8", held["name"])

    # -- record writes (VaultState.apply_row) ---------------------------------------------------
    def staged_name(self, path: Any) -> str | None:
        """The file name of a staged file, None when nothing is staged at `path`."""
        with self.lock:
            item = self.staged.get("/" + str(path).lstrip("/"))
        return item["name"] if item else None

    def attach(self, obj: str, rid: str, paths: dict[str, Any]) -> None:
        """Move each staged file onto the record's field (a blank path empties the field)."""
        with self.lock:
            for field, path in paths.items():
                key = f"{obj}/{rid}/{field}"
                item = self.staged.pop("/" + str(path).lstrip("/"), None) if path else None
                if item is None:
                    self.fields.pop(key, None)
                else:
                    self.fields[key] = item

    def held(self, obj: str, rid: str, field: str) -> tuple[str, int, str] | None:
        """(name, size, md5) of the file a record's field holds (tests)."""
        with self.lock:
            item = self.fields.get(f"{obj}/{rid}/{field}")
        return (item["name"], item["blob"].size, item["blob"].md5) if item else None

    def staged_paths(self) -> list[str]:
        with self.lock:
            return sorted(self.staged)
