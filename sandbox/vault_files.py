"""Vault object record attachments in the emulator (docs/files-api.md, "Vault").

Retrieve Object Record Attachments, Retrieve Object Record Attachment Metadata, Download Object
Record Attachment File (the latest version), Create Object Record Attachment (multipart `file`;
the same file name again makes a new version, the same MD5 as an existing attachment adds nothing)
and Delete Object Record Attachment, on objects whose metadata says `allow_attachments`.
Reference: https://limited.veevavault.dev/vault-api/api-reference/25.2/vault-objects/object-record-attachments/
"""

from __future__ import annotations

import threading
from typing import Any

from sandbox import demo
from sandbox.files import Blob, FileAnswer, FileStore, MultipartError, deterministic_chunks, read_multipart
from sandbox.vault_field_files import VaultFieldFiles
from sandbox.vault_state import VaultError, now_iso

# Objects whose metadata answers allow_attachments: true (the others refuse attachments).
ATTACHMENT_OBJECTS = frozenset({"product__v", "formulation__c"})
TWENTY_MB = 20 * 1024 * 1024
# Demo attachments: product name -> (file name, size); seeds follow the order here.
DEMO_ATTACHMENTS: dict[str, tuple[tuple[str, int], ...]] = {
    "Neurolax": (("label.txt", 1_024), ("stability-study.pdf", 300_000), ("dossier.zip", TWENTY_MB)),
    "Cardiostat": (("leaflet.pdf", 48_000), ("empty.txt", 0)),
}
FIRST_ID = 501


class VaultFiles:
    def __init__(self, app: Any, store: FileStore) -> None:
        self.app = app  # the VaultApp: its state (records) and settings, replaced on reset
        self.store = store
        self.lock = threading.Lock()
        self.by_record: dict[str, list[dict[str, Any]]] = {}
        self.next_id = FIRST_ID
        self.fields = VaultFieldFiles(app, store)  # attachment fields and file staging

    # -- demo data and --state ------------------------------------------------------------------
    def load_demo(self, records: dict[str, dict[str, dict[str, Any]]]) -> None:
        by_name = {rec.get("name__v"): rid for rid, rec in records.get("product__v", {}).items()}
        seed = 1000
        for product, files in DEMO_ATTACHMENTS.items():
            rid = by_name.get(product)
            for name, size in files if rid else ():
                seed += 1
                blob = self.store.lazy(seed=seed, size=size)
                self._add("product__v", str(rid), name, _guess_type(name), blob, demo.DEMO_TIMESTAMP, True)
        self.fields.load_demo(records)

    def to_json(self) -> dict[str, Any]:
        with self.lock:
            out = {
                key: [{**a, "versions": [{**v, "blob": v["blob"].to_json()} for v in a["versions"]]} for a in items]
                for key, items in self.by_record.items()
            }
            return {"attachments": out, "next_id": self.next_id, "field_files": self.fields.to_json()}

    def load_json(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.by_record = {
                key: [
                    {**a, "versions": [{**v, "blob": self.store.from_json(v["blob"])} for v in a["versions"]]}
                    for a in items
                ]
                for key, items in data.get("attachments", {}).items()
            }
            self.next_id = int(data.get("next_id", FIRST_ID))
        self.fields.load_json(data.get("field_files", {}))

    # -- the routes -----------------------------------------------------------------------------
    def list_or_create(self, req: Any, obj: str, rid: str) -> dict[str, Any]:
        return self.create(req, obj, rid) if req.method == "POST" else self.list_attachments(req, obj, rid)

    def one_or_delete(self, req: Any, obj: str, rid: str, aid: str) -> dict[str, Any]:
        return self.delete(req, obj, rid, aid) if req.method == "DELETE" else self.attachment(req, obj, rid, aid)

    # -- each route -----------------------------------------------------------------------------
    def list_attachments(self, req: Any, obj: str, rid: str) -> dict[str, Any]:
        self._check(req, obj, rid)
        with self.lock:
            items = list(self.by_record.get(f"{obj}/{rid}", ()))
        return {"responseStatus": "SUCCESS", "data": [self._json(req, obj, rid, a) for a in items]}

    def attachment(self, req: Any, obj: str, rid: str, aid: str) -> dict[str, Any]:
        self._check(req, obj, rid)
        return {"responseStatus": "SUCCESS", "data": [self._json(req, obj, rid, self._find(obj, rid, aid))]}

    def download(self, req: Any, obj: str, rid: str, aid: str) -> FileAnswer:
        self._check(req, obj, rid)
        latest = self._find(obj, rid, aid)["versions"][-1]
        blob = latest["blob"]
        return FileAnswer(blob.chunks(), blob.size, "application/octet-stream;charset=UTF-8", latest["filename__v"])

    def create(self, req: Any, obj: str, rid: str) -> dict[str, Any]:
        self._check(req, obj, rid)
        try:
            _, upload = read_multipart(req.stream, req.length, req.content_type, self.store)
        except MultipartError as exc:
            raise VaultError("INVALID_DATA", f"Could not read the upload: {exc}") from None
        if upload is None:
            raise VaultError("PARAMETER_REQUIRED", "Missing required parameter [file]")
        created = now_iso(self.app.settings.clock_skew)
        entry = self._add(obj, rid, upload.filename, upload.content_type, upload.blob, created, False)
        return {"responseStatus": "SUCCESS", "data": [{"id": str(entry["id"]), "version__v": entry["version__v"]}]}

    def delete(self, req: Any, obj: str, rid: str, aid: str) -> dict[str, Any]:
        self._check(req, obj, rid)
        with self.lock:
            items = self.by_record.get(f"{obj}/{rid}", [])
            entry = next((a for a in items if str(a["id"]) == aid), None)
            if entry is None:
                raise VaultError("INVALID_DATA", f"Attachment [{aid}] does not exist")
            items.remove(entry)
        # [UNCONFIRMED] the answer's body beyond responseStatus: none is documented.
        return {"responseStatus": "SUCCESS"}

    # -- helpers --------------------------------------------------------------------------------
    def _check(self, req: Any, obj: str, rid: str) -> None:
        if obj not in self.app.state.schema:
            raise VaultError("INVALID_DATA", f"Object [{obj}] does not exist")
        if obj not in ATTACHMENT_OBJECTS:
            # [UNCONFIRMED] the error of an object without attachments enabled.
            raise VaultError("INVALID_DATA", f"Attachments are not enabled for object [{obj}]")
        with self.app.state.lock:
            exists = rid in self.app.state.records[obj]
        if not exists:
            raise VaultError("INVALID_DATA", f"The resource [{rid}] does not exist")

    def _find(self, obj: str, rid: str, aid: str) -> dict[str, Any]:
        with self.lock:
            for a in self.by_record.get(f"{obj}/{rid}", ()):
                if str(a["id"]) == aid:
                    return a
        raise VaultError("INVALID_DATA", f"Attachment [{aid}] does not exist")

    def _add(
        self, obj: str, rid: str, filename: str, ctype: str, blob: Blob, created: str, demo_data: bool
    ) -> dict[str, Any]:
        user = demo.VAULT_DATA_USER_ID if demo_data else demo.VAULT_USER_ID
        version = {"filename__v": filename, "format__v": ctype, "blob": blob, "created": created, "by": user}
        with self.lock:
            items = self.by_record.setdefault(f"{obj}/{rid}", [])
            if not demo_data and any(a["versions"][-1]["blob"].md5 == blob.md5 for a in items):
                # Documented: the same MD5 as an existing attachment is not added (the answer then
                # is [UNCONFIRMED]: here that attachment's id and version).
                same = next(a for a in items if a["versions"][-1]["blob"].md5 == blob.md5)
                return same
            entry = next((a for a in items if a["versions"][-1]["filename__v"] == filename), None)
            if entry is None:
                entry = {"id": self.next_id, "version__v": 0, "versions": []}
                self.next_id += 1
                items.append(entry)
            entry["versions"].append(version)
            entry["version__v"] = len(entry["versions"])
            return entry

    def _json(self, req: Any, obj: str, rid: str, a: dict[str, Any]) -> dict[str, Any]:
        latest = a["versions"][-1]
        base = f"{self.app.base_url}/api/{req.version}/vobjects/{obj}/{rid}/attachments/{a['id']}"
        return {
            "id": a["id"],
            "filename__v": latest["filename__v"],
            "format__v": latest["format__v"],
            "size__v": latest["blob"].size,
            "md5checksum__v": latest["blob"].md5,
            "version__v": a["version__v"],
            "created_by__v": latest["by"],
            "created_date__v": latest["created"],
            "versions": [{"version__v": n, "url": f"{base}/versions/{n}"} for n in range(1, a["version__v"] + 1)],
        }


def _guess_type(name: str) -> str:
    kinds = {"txt": "text/plain", "pdf": "application/pdf", "zip": "application/zip", "png": "image/png"}
    return kinds.get(name.rsplit(".", 1)[-1], "application/octet-stream")


__all__ = ["ATTACHMENT_OBJECTS", "FileAnswer", "VaultFiles", "deterministic_chunks"]
