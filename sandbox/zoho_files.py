"""Zoho CRM attachments and files in the emulator (docs/files-api.md, "Zoho CRM").

Attachments of a record: Get list (`fields` mandatory), Download, Upload (multipart `file`),
Delete. Files (ZFS): Upload (`POST /files`, answers the encrypted id a file/image upload field takes
as `File_Id__s`, at most 20 MB) and Get Files (`GET /files?id=`).
References: https://www.zoho.com/crm/developer/docs/api/v8/get-attachments.html ,
https://www.zoho.com/crm/developer/docs/api/v8/upload-files-to-zfs.html
"""

from __future__ import annotations

import re
import secrets
import threading
from typing import Any

from sandbox.files import Blob, FileStore, MultipartError, Upload, read_multipart
from sandbox.vault_files import TWENTY_MB, FileAnswer, _guess_type
from sandbox.zoho_state import DEMO_TIME, ApiError

MAX_ZFS_FILE = 20 * 1024 * 1024  # Upload Files to ZFS: "The maximum size of each attachment is 20MB."
MAX_ATTACHMENT = 100 * 1024 * 1024  # Upload an Attachment: "Maximum allowed file size: 100 MB"
# Demo attachments: account name -> (file name, size).
DEMO_ATTACHMENTS: dict[str, tuple[tuple[str, int], ...]] = {
    "Globex": (("contract.pdf", 52_000), ("logo.png", 4_096), ("archive.zip", TWENTY_MB)),
    "Acme Corp": (("notes.txt", 700),),
}
_DEMO_FILE = re.compile(r"file(\d{6})\Z")  # the demo contacts' Photo_File ids (zoho_demo.py)
ATTACHMENT_ID_BASE = 5_725_767_000_009_000_001


class ZohoFiles:
    def __init__(self, app: Any, store: FileStore) -> None:
        self.app = app  # the ZohoApp: its state and settings, replaced on reset
        self.store = store
        self.lock = threading.Lock()
        self.attachments: dict[str, list[dict[str, Any]]] = {}  # "module/record id" -> attachments
        self.files: dict[str, dict[str, Any]] = {}  # ZFS: encrypted id -> {name, content type, blob}
        self.next_id = ATTACHMENT_ID_BASE

    def load_demo(self) -> None:
        accounts = {r.get("Account_Name"): rid for rid, r in self.app.state.records.get("Accounts", {}).items()}
        seed = 2000
        stamp = DEMO_TIME.isoformat(timespec="seconds")
        for account, files in DEMO_ATTACHMENTS.items():
            rid = accounts.get(account)
            for name, size in files if rid else ():
                seed += 1
                self._add(
                    "Accounts", str(rid), name, self.store.lazy(seed=seed, size=size), stamp, self.app.state.data_user
                )

    def to_json(self) -> dict[str, Any]:
        with self.lock:
            return {
                "attachments": {
                    k: [{**a, "blob": a["blob"].to_json()} for a in v] for k, v in self.attachments.items()
                },
                "files": {k: {**f, "blob": f["blob"].to_json()} for k, f in self.files.items()},
                "next_id": self.next_id,
            }

    def load_json(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.attachments = {
                k: [{**a, "blob": self.store.from_json(a["blob"])} for a in v]
                for k, v in data.get("attachments", {}).items()
            }
            self.files = {k: {**f, "blob": self.store.from_json(f["blob"])} for k, f in data.get("files", {}).items()}
            self.next_id = int(data.get("next_id", ATTACHMENT_ID_BASE))

    # -- routing (parts after /crm/{version}/) ------------------------------------------------
    @staticmethod
    def handles(parts: list[str]) -> bool:
        return parts == ["files"] or (len(parts) in (3, 4) and parts[2] == "Attachments")

    def route(self, req: Any, parts: list[str]) -> tuple[int, Any]:
        if parts == ["files"]:
            return self.upload_file(req) if req.method == "POST" else self.get_file(req)
        module, rid = parts[0], parts[1]
        self._record(module, rid)
        if len(parts) == 3:
            return self.upload(req, module, rid) if req.method == "POST" else self.list(req, module, rid)
        if req.method == "DELETE":
            return self.delete(module, rid, parts[3])
        return self.download(module, rid, parts[3])

    # -- attachments ------------------------------------------------------------------------------
    def list(self, req: Any, module: str, rid: str) -> tuple[int, Any]:
        fields = [f for f in (req.param("fields") or "").split(",") if f]
        if not fields:
            raise ApiError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", param="fields")
        with self.lock:
            items = list(self.attachments.get(f"{module}/{rid}", ()))
        if not items:
            return 204, None
        data = [{k: v for k, v in self._json(module, rid, a).items() if k in fields or k == "id"} for a in items]
        info = {"per_page": 200, "count": len(data), "page": 1, "more_records": False}
        return 200, {"data": data, "info": info}

    def download(self, module: str, rid: str, aid: str) -> tuple[int, Any]:
        a = self._find(module, rid, aid)
        return 200, FileAnswer(a["blob"].chunks(), a["blob"].size, a["content_type"], a["File_Name"])

    def upload(self, req: Any, module: str, rid: str) -> tuple[int, Any]:
        upload = self._read_upload(req, MAX_ATTACHMENT)
        a = self._add(module, rid, upload.filename, upload.blob, self.app.state.now_iso(), self.app.state.api_user)
        details = {
            "Modified_Time": a["Created_Time"],
            "Modified_By": a["Created_By"],
            "Created_Time": a["Created_Time"],
            "id": a["id"],
            "Created_By": a["Created_By"],
        }
        return 200, _success(details, "attachment uploaded successfully")

    def delete(self, module: str, rid: str, aid: str) -> tuple[int, Any]:
        a = self._find(module, rid, aid)
        with self.lock:
            self.attachments[f"{module}/{rid}"].remove(a)
        return 200, _success({"id": aid}, "record deleted")

    # -- ZFS files ----------------------------------------------------------------------------------
    def upload_file(self, req: Any) -> tuple[int, Any]:
        upload = self._read_upload(req, MAX_ZFS_FILE)
        file_id = secrets.token_hex(32)
        with self.lock:
            self.files[file_id] = {"name": upload.filename, "content_type": upload.content_type, "blob": upload.blob}
        details = {"name": upload.filename, "id": file_id}
        return 200, _success(details, f"{upload.filename} uploaded Succeessfully")  # sic, as documented

    def get_file(self, req: Any) -> tuple[int, Any]:
        file_id = req.param("id") or ""
        with self.lock:
            f = self.files.get(file_id)
        demo_file = _DEMO_FILE.match(file_id)
        if f is None and demo_file:  # a demo contact's photo: small deterministic bytes
            n = int(demo_file.group(1))
            f = {"name": f"photo{n}.png", "content_type": "image/png", "blob": self.store.lazy(seed=n, size=2_000 + n)}
        if f is None:
            raise ApiError(400, "INVALID_DATA", "the given file id is invalid", param="id")  # [UNCONFIRMED] code
        return 200, FileAnswer(f["blob"].chunks(), f["blob"].size, f["content_type"], f["name"])

    # -- helpers ------------------------------------------------------------------------------------
    def _record(self, module: str, rid: str) -> None:
        if module not in self.app.state.modules:
            raise ApiError(400, "INVALID_MODULE", "the module name given seems to be invalid")
        if self.app.state.get(module, rid) is None:
            raise ApiError(400, "INVALID_DATA", "the related id given seems to be invalid", id=rid)

    def _read_upload(self, req: Any, limit: int) -> Upload:
        if req.length > limit + 64 * 1024:
            # [UNCONFIRMED] the code of a file over the limit; refused before the bytes are kept.
            raise ApiError(400, "FILE_SIZE_MORE_THAN_ALLOWED", "file size exceeds the allowed limit")
        try:
            _, upload = read_multipart(req.stream, req.length, req.headers.get("content-type", ""), self.store)
        except MultipartError:
            upload = None
        if upload is None:
            raise ApiError(
                400,
                "failure_in_attachment_handling",
                "Problem in uploading attachment. kindly upload the file properly",
            )
        if upload.blob.size > limit:
            raise ApiError(400, "FILE_SIZE_MORE_THAN_ALLOWED", "file size exceeds the allowed limit")
        return upload

    def _find(self, module: str, rid: str, aid: str) -> dict[str, Any]:
        with self.lock:
            for a in self.attachments.get(f"{module}/{rid}", ()):
                if a["id"] == aid:
                    return a
        raise ApiError(400, "INVALID_DATA", "the related id given seems to be invalid", id=aid)

    def _add(self, module: str, rid: str, name: str, blob: Blob, created: str, user: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            aid = str(self.next_id)
            self.next_id += 1
            by = {"name": user.get("full_name") or user.get("name"), "id": user.get("id")}
            a = {"id": aid, "File_Name": name, "content_type": _guess_type(name), "blob": blob}
            a.update({"Created_Time": created, "Created_By": by, "$file_id": secrets.token_hex(16)})
            self.attachments.setdefault(f"{module}/{rid}", []).append(a)
            return a

    def _json(self, module: str, rid: str, a: dict[str, Any]) -> dict[str, Any]:
        record = self.app.state.get(module, rid) or {}
        name = next((record.get(k) for k in ("Account_Name", "Last_Name", "Deal_Name") if record.get(k)), "")
        return {
            "id": a["id"],
            "File_Name": a["File_Name"],
            "Size": str(a["blob"].size),  # [UNCONFIRMED] a string of bytes, as older versions answer
            "Created_Time": a["Created_Time"],
            "Modified_Time": a["Created_Time"],
            "Created_By": a["Created_By"],
            "Modified_By": a["Created_By"],
            "Owner": a["Created_By"],
            "Parent_Id": {"name": name, "id": rid},
            "$file_id": a["$file_id"],
            "$type": "Attachment",
            "$editable": True,
            "$link_url": None,
        }


def _success(details: dict[str, Any], message: str) -> dict[str, Any]:
    return {"data": [{"code": "SUCCESS", "details": details, "message": message, "status": "success"}]}
