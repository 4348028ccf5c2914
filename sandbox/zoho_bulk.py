"""Zoho CRM's Bulk Read and Bulk Write APIs in the emulator (docs/zoho-bulk-api.md has each
endpoint, its vendor page and what is unconfirmed).

Bulk Read: `POST /crm/bulk/v{n}/read` (a query: module, fields, criteria, page) → a job id; `GET
/crm/bulk/v{n}/read/{id}` → its state and, once COMPLETED, `result` (count, more_records,
download_url); `GET …/{id}/result` → a zip holding one CSV of up to 200,000 rows (a page).
Bulk Write: `POST /crm/v{n}/upload` (header `feature: bulk-write`, multipart `file`: a zipped CSV)
→ a file_id; `POST /crm/bulk/v{n}/write` (operation, resource: module, file_id, field_mappings) →
a job id; `GET /crm/bulk/v{n}/write/{id}` → its state, counts and `result.download_url`; `GET
…/{id}/result` → a zip of a CSV: the first three mapped columns, then STATUS, RECORD_ID, ERRORS.
A job runs on a timer thread `bulk_job_delay` seconds after it was made (or at a poll that finds it
due), so it finishes whether or not anyone polls: a client that lost the answer finds its records.
"""

from __future__ import annotations

import csv
import io
import threading
import time
import zipfile
from collections.abc import Iterator
from typing import Any

from sandbox.files import Blob, FileStore, MultipartError, read_multipart
from sandbox.vault_files import FileAnswer
from sandbox.zoho_state import ApiError

READ_PAGE_ROWS = 200_000  # Bulk Read: "200,000 records per page" (a job reads one page)
WRITE_MAX_ROWS = 25_000  # Bulk Write: at most 25,000 records a file
RESULT_COLUMNS = 3  # the result CSV repeats the first three mapped columns
JOB_ID_BASE = 5_725_767_000_010_000_001


def _bad(code: str, message: str, status: int = 400, **details: Any) -> ApiError:
    return ApiError(status, code, message, **details)


class ZohoBulk:
    """The bulk jobs and uploaded files of one org (replaced with the app's state on reset)."""

    def __init__(self, app: Any, store: FileStore) -> None:
        self.app = app
        self.store = store
        self.lock = threading.Lock()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, Blob] = {}
        self.next_id = JOB_ID_BASE

    @staticmethod
    def handles(parts: list[str]) -> bool:
        return parts[:1] == ["bulk"] or parts == ["upload"]

    def cost(self, req: Any, parts: list[str]) -> int | None:
        """Credits of a bulk call: a write job 500, a read job `bulk_read_credits` [UNCONFIRMED]."""
        if req.method != "POST" or parts[:1] != ["bulk"]:
            return None
        settings = self.app.settings
        return int(settings.bulk_write_credits if parts[1:] == ["write"] else settings.bulk_read_credits)

    def route(self, req: Any, parts: list[str]) -> tuple[int, Any]:
        if parts == ["upload"]:
            return self.upload(req)
        kind, rest = parts[1] if len(parts) > 1 else "", parts[2:]
        if kind not in ("read", "write") or len(rest) > 2 or (len(rest) == 2 and rest[1] != "result"):
            raise _bad("INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one", 404)
        if not rest:
            if req.method != "POST":
                raise _bad("INVALID_REQUEST_METHOD", "the http request method type is not a valid one", 405)
            return self.create_read(req) if kind == "read" else self.create_write(req)
        job = self._job(kind, rest[0])
        return self.result(job) if len(rest) == 2 else (200, self._status(req, job))

    # -- jobs ---------------------------------------------------------------------------------------
    def _new_job(self, kind: str, **details: Any) -> dict[str, Any]:
        state = self.app.state
        with self.lock:
            self.next_id += 1
            job = {
                "id": str(self.next_id),
                "kind": kind,
                "state": "ADDED",
                "created_time": state.now_iso(),
                "created_by": {"id": state.api_user["id"], "name": state.api_user["name"]},
                "due": time.monotonic() + self.app.settings.bulk_job_delay,
                "org_state": state,
                **details,
            }
            self.jobs[job["id"]] = job
        timer = threading.Timer(self.app.settings.bulk_job_delay, self._run, args=(job,))
        timer.daemon = True
        timer.start()
        return job

    def _job(self, kind: str, job_id: str) -> dict[str, Any]:
        with self.lock:
            job = self.jobs.get(job_id)
        if job is None or job["kind"] != kind:
            raise _bad("RESOURCE_NOT_FOUND", "the requested resource is not found", 404, param="job_id")
        if job["state"] != "COMPLETED" and time.monotonic() >= job["due"]:
            self._run(job)
        return job

    def _run(self, job: dict[str, Any]) -> None:
        state = job["org_state"]
        if state is not self.app.state:
            return  # the org was reset since: the job went with it
        with state.lock:
            if job["state"] == "COMPLETED":
                return
            job["state"] = "IN PROGRESS"
            if job["kind"] == "read":
                self._run_read(job, state)
            else:
                self._run_write(job, state)
            job["state"] = "COMPLETED"

    def _status(self, req: Any, job: dict[str, Any]) -> dict[str, Any]:
        url = f"{req.base_url}/crm/bulk/v{req.version}/{job['kind']}/{job['id']}/result"
        common = {k: job[k] for k in ("id", "created_time", "created_by")}
        if job["kind"] == "read":
            body = {**common, "operation": "read", "state": job["state"], "query": job["query"], "file_type": "csv"}
            if job["state"] == "COMPLETED":
                body["result"] = {**job["result"], "download_url": url}
            return {"data": [body]}
        resource = {**job["resource"], "status": job["state"]}
        if job["state"] == "COMPLETED":
            resource["file"] = {**job["counts"], "status": "COMPLETED", "name": job["file_name"]}
        body = {**common, "operation": "insert", "status": job["state"], "character_encoding": "UTF-8"}
        body["resource"] = [resource]
        if job["state"] == "COMPLETED":
            body["result"] = {"download_url": url}
        return body

    def result(self, job: dict[str, Any]) -> tuple[int, Any]:
        if job["state"] != "COMPLETED":
            raise _bad("RESOURCE_NOT_FOUND", "the job is not completed yet", 404)
        blob: Blob = job["blob"]
        name = f"{job['id']}.zip"
        return 200, FileAnswer(blob.chunks(), blob.size, "application/zip", name)

    def _zipped(self, name: str, rows: Iterator[list[str]]) -> Blob:
        """A zip of one CSV written to the store (a spooled file, never a whole body in memory)."""
        spool = self.store.root / f"bulk-{name}.tmp"
        with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
            with archive.open(f"{name}.csv", "w") as raw, io.TextIOWrapper(raw, "utf-8", newline="") as text:
                writer = csv.writer(text)
                for row in rows:
                    writer.writerow(row)
        with spool.open("rb") as f:
            blob = self.store.put(iter(lambda: f.read(1 << 16), b""))
        spool.unlink()
        return blob

    # -- Bulk Read ----------------------------------------------------------------------------------
    def create_read(self, req: Any) -> tuple[int, Any]:
        body = req.json()
        query = body.get("query") if isinstance(body, dict) else None
        if not isinstance(query, dict):
            raise _bad("MANDATORY_NOT_FOUND", "required field not found", api_name="query")
        raw_module = query.get("module")
        module = raw_module.get("api_name") if isinstance(raw_module, dict) else raw_module
        mod = self.app.state.module(module) if isinstance(module, str) else None
        if mod is None or not mod.coql:
            raise _bad("INVALID_DATA", "the given module is not supported", api_name="module")
        fields = query.get("fields") or [f["api_name"] for f in mod.fields if f["data_type"] != "subform"]
        unknown = [f for f in fields if f not in mod.by_name and f != "id"]
        if unknown:
            raise _bad("INVALID_DATA", "invalid field", api_name="fields", field=unknown[0])
        page = query.get("page", 1)
        if not isinstance(page, int) or page < 1:
            raise _bad("INVALID_DATA", "invalid data", api_name="page")
        _check_criteria(mod, query.get("criteria"))
        job = self._new_job("read", query={**query, "page": page}, module=mod.api_name, fields=fields)
        details = {"id": job["id"], "operation": "read", "state": "ADDED"}
        details |= {"created_by": job["created_by"], "created_time": job["created_time"]}
        answer = {"status": "success", "code": "ADDED_SUCCESSFULLY", "message": "Added successfully."}
        return 201, {"data": [{**answer, "details": details}], "info": {}}

    def _run_read(self, job: dict[str, Any], state: Any) -> None:
        mod = state.module(job["module"])
        criteria = job["query"].get("criteria")
        matched = [r for r in state.records[mod.api_name].values() if _matches(r, criteria)]
        matched.sort(key=lambda r: int(r["id"]))
        start = (job["query"]["page"] - 1) * READ_PAGE_ROWS
        page = matched[start : start + READ_PAGE_ROWS]
        columns = ["Id", *[f for f in job["fields"] if f != "id"]]

        def lines() -> Iterator[list[str]]:
            yield columns
            for rec in page:
                yield [rec["id"], *(_csv_value(rec.get(c)) for c in columns[1:])]

        job["blob"] = self._zipped(job["id"], lines())
        more = len(matched) > start + READ_PAGE_ROWS
        job["result"] = {"page": job["query"]["page"], "count": len(page), "per_page": READ_PAGE_ROWS}
        job["result"]["more_records"] = more

    # -- Bulk Write ---------------------------------------------------------------------------------
    def upload(self, req: Any) -> tuple[int, Any]:
        if req.method != "POST":
            raise _bad("INVALID_REQUEST_METHOD", "the http request method type is not a valid one", 405)
        if req.headers.get("feature") != "bulk-write":
            raise _bad("INVALID_REQUEST", "the feature header must be bulk-write", param="feature")
        if req.headers.get("x-crm-org") != self.app.state.org_json()["zgid"]:
            raise _bad("INVALID_REQUEST", "the X-CRM-ORG header must be the org's zgid", param="X-CRM-ORG")
        if req.stream is None:
            raise _bad("REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", param="file")
        try:
            _form, upload = read_multipart(req.stream, req.length, req.headers["content-type"], self.store)
        except MultipartError as exc:
            raise _bad("INVALID_DATA", str(exc)) from None
        if upload is None:
            raise _bad("REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", param="file")
        if not zipfile.is_zipfile(upload.blob.path):
            raise _bad("INVALID_FILE_FORMAT", "the file should be a zip of a csv")
        with self.lock:
            self.next_id += 1
            file_id = str(self.next_id)
            self.uploads[file_id] = upload.blob
        details = {"file_id": file_id, "created_time": self.app.state.now_iso()}
        return 200, {
            "status": "success",
            "code": "FILE_UPLOAD_SUCCESS",
            "message": "file uploaded.",
            "details": details,
        }

    def create_write(self, req: Any) -> tuple[int, Any]:
        body = req.json()
        if not isinstance(body, dict) or body.get("operation") != "insert":
            # The emulator does inserts only (update and upsert are documented, not used by the app).
            raise _bad("INVALID_DATA", "invalid data", api_name="operation")
        resources = body.get("resource")
        if not isinstance(resources, list) or len(resources) != 1 or not isinstance(resources[0], dict):
            raise _bad("INVALID_DATA", "invalid data", api_name="resource")
        resource = resources[0]
        raw_module = resource.get("module")
        module = raw_module.get("api_name") if isinstance(raw_module, dict) else raw_module
        mod = self.app.state.module(module) if isinstance(module, str) else None
        if mod is None or mod.generated_type == "subform":
            raise _bad("INVALID_DATA", "the given module is not supported", api_name="module")
        with self.lock:
            blob = self.uploads.get(str(resource.get("file_id")))
        if blob is None:
            raise _bad("INVALID_DATA", "the given file_id is invalid", api_name="file_id")
        mappings = resource.get("field_mappings")
        if not isinstance(mappings, list) or not all(
            isinstance(m, dict) and m.get("api_name") in mod.by_name for m in mappings
        ):
            raise _bad("INVALID_DATA", "invalid field mapping", api_name="field_mappings")
        job = self._new_job("write", module=mod.api_name, blob_in=blob, mappings=mappings)
        job["resource"] = {"type": "data", "module": {"api_name": mod.api_name}, "field_mappings": mappings}
        job["file_name"] = f"{mod.api_name}-bulkwrite.csv"
        details = {"id": job["id"], "created_by": job["created_by"]}
        return 201, {"status": "success", "code": "SUCCESS", "message": "success", "details": details}

    def _run_write(self, job: dict[str, Any], state: Any) -> None:
        mod = state.module(job["module"])
        counts = {"added_count": 0, "skipped_count": 0, "updated_count": 0, "total_count": 0}
        mappings = sorted(job["mappings"], key=lambda m: int(m.get("index", 0)))
        inserts = self.app.records

        def lines() -> Iterator[list[str]]:
            header: list[str] | None = None
            for row in _csv_rows(job["blob_in"]):
                if header is None:
                    header = row
                    yield [*row[:RESULT_COLUMNS], "STATUS", "RECORD_ID", "ERRORS"]
                    continue
                counts["total_count"] += 1
                if counts["total_count"] > WRITE_MAX_ROWS:
                    counts["skipped_count"] += 1
                    yield [*row[:RESULT_COLUMNS], "Skipped", "", "LIMIT_EXCEEDED"]
                    continue
                values = {m["api_name"]: row[int(m["index"])] for m in mappings if int(m["index"]) < len(row)}
                values = {k: v for k, v in values.items() if v != ""}  # ignore_empty
                answer = inserts._insert_one(mod, values)
                if answer.get("status") == "success":
                    counts["added_count"] += 1
                    yield [*row[:RESULT_COLUMNS], "Added", answer["details"]["id"], ""]
                else:
                    counts["skipped_count"] += 1
                    field = answer.get("details", {}).get("api_name", "")
                    yield [*row[:RESULT_COLUMNS], "Skipped", "", f"{answer.get('code')}-{field}"]

        job["blob"] = self._zipped(job["id"], lines())
        job["counts"] = counts
        state.actions.append({"op": "bulk_write", "module": mod.api_name, "job": job["id"], **counts})

    def write_jobs(self) -> list[dict[str, Any]]:
        """For tests: the bulk write jobs made, oldest first."""
        with self.lock:
            return [j for j in self.jobs.values() if j["kind"] == "write"]


def _csv_rows(blob: Blob) -> Iterator[list[str]]:
    with zipfile.ZipFile(blob.path) as archive:
        names = [n for n in archive.namelist() if n.lower().endswith(".csv")]
        if not names:
            return
        with archive.open(names[0]) as raw, io.TextIOWrapper(raw, "utf-8-sig", newline="") as text:
            yield from csv.reader(text)


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return ""  # subforms and multi-selects are not exported in the emulator
    return str(value)


_COMPARATORS = ("equal", "not_equal", "in", "not_in")


def _check_criteria(mod: Any, criteria: Any) -> None:
    if criteria is None:
        return
    if not isinstance(criteria, dict):
        raise _bad("INVALID_DATA", "invalid criteria", api_name="criteria")
    if "group" in criteria:
        if criteria.get("group_operator") not in ("and", "or") or not isinstance(criteria["group"], list):
            raise _bad("INVALID_DATA", "invalid criteria", api_name="group_operator")
        for inner in criteria["group"]:
            _check_criteria(mod, inner)
        return
    name = str(criteria.get("api_name", "")).removesuffix(".id")
    if name not in mod.by_name and name != "id":
        raise _bad("INVALID_DATA", "invalid criteria", api_name="api_name")
    if criteria.get("comparator") not in _COMPARATORS:
        raise _bad("INVALID_DATA", "invalid criteria", api_name="comparator")


def _matches(rec: dict[str, Any], criteria: Any) -> bool:
    if not criteria:
        return True
    if "group" in criteria:
        results = (_matches(rec, inner) for inner in criteria["group"])
        return all(results) if criteria["group_operator"] == "and" else any(results)
    name = str(criteria["api_name"]).removesuffix(".id")
    value = rec.get(name) if name != "id" else rec["id"]
    wanted = criteria.get("value")
    values = {str(v) for v in wanted} if isinstance(wanted, list) else {str(wanted)}
    hit = str(value) in values if value is not None else False
    return hit if criteria["comparator"] in ("equal", "in") else not hit
