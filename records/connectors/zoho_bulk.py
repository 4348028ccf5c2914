"""Zoho CRM's Bulk Read and Bulk Write APIs: create a job, poll it, download its result into a
temporary file (never the whole file in memory) and read its rows one at a time.

Endpoints, their answers and what is unconfirmed: docs/zoho-bulk-api.md.

Exactly once (Bulk Write). `submit` uploads the file and creates the job, then stores the job's id
in the caller's `BulkLedger` before anything else; `finish` polls a stored job and maps the result.
A crash after the id was stored finds the job again by it (`insert` asks the ledger first) and never
creates a second one. A lost answer to the create call leaves no id: Zoho documents no listing of
bulk write jobs and no way to find one by its uploaded file_id, so the rows are found again by their
copy key instead (`_recover`): we wait while the job may still be running, and rows still missing
after that come back unsent (`BulkRow.sent` False) for the caller to send again. A row carries its
copy key in the first column, which the result file repeats, so the result maps rows to ids by
key; without a copy key, by row order ([UNCONFIRMED] that the result keeps the file's order).
"""

from __future__ import annotations

import contextlib
import csv
import io
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from records.connectors import zoho_parse as zp
from records.connectors.base import BulkLedger
from records.connectors.errors import OutcomeUnknown, Rejected, Unavailable
from records.connectors.uploads import MultipartBody
from records.connectors.zoho_api import ZohoApi

WRITE_ROWS_MAX = 25_000  # Bulk Write: at most 25,000 records a job
READ_PAGE_ROWS = 200_000  # Bulk Read: a job reads one page of 200,000 records
READ_IN_MAX = 100  # [UNCONFIRMED] values of a criteria's `in`: COQL's 100 (§4.4) assumed
POLL_SECONDS = 1.0  # between two status polls of one job
WAIT_SECONDS = 600.0  # a job not done by then is given up (Unavailable; the caller resumes later)
QUIET_SECONDS = 60.0  # a lost job's rows: no new one found for this long, the job has ended
DONE, FAILED = "COMPLETED", ("FAILED", "FAILURE")
CHUNK = 1 << 16


@dataclass(frozen=True)
class BulkRow:
    """One row of a bulk write: its number in the file (from 1), its copy key, the new id or the
    error; `sent` False: the row was never written and may be sent again."""

    row: int
    key: str
    record_id: str = ""
    error: str = ""
    sent: bool = True


@dataclass(frozen=True)
class Pending:
    """A bulk write submitted: its job id and what the result is mapped with."""

    job_id: str
    keys: tuple[str, ...]
    key_field: str = ""


class ZohoBulk:
    def __init__(
        self,
        api: ZohoApi,
        *,
        org_id: Callable[[], str],
        match_ids: Callable[[str, str, Sequence[str]], dict[str, list[str]]],
        poll_seconds: float = POLL_SECONDS,
        wait_seconds: float = WAIT_SECONDS,
        quiet_seconds: float = QUIET_SECONDS,
    ) -> None:
        self.api = api
        self.org_id = org_id
        self.match_ids = match_ids  # (module, field, values) -> {value: [ids]} (COQL)
        self.poll_seconds = poll_seconds
        self.wait_seconds = wait_seconds
        self.quiet_seconds = quiet_seconds
        self.sleep = time.sleep

    # -- Bulk Read ----------------------------------------------------------------------------------
    def read(
        self, module: str, fields: Sequence[str], *, field: str, values: Sequence[str]
    ) -> Iterator[dict[str, str]]:
        """Every record of `module` whose `field` is one of `values`, as CSV rows ({column: text};
        the record id in "Id"), a job per READ_IN_MAX values and per page of 200,000."""
        for start in range(0, len(values), READ_IN_MAX):
            criteria = {"api_name": field, "comparator": "in", "value": list(values[start : start + READ_IN_MAX])}
            page, more = 1, True
            while more:
                job_id = self._create_read(module, fields, criteria, page)
                result = self._wait("read", job_id)
                more = bool(result.get("more_records"))
                yield from self._rows("read", job_id)
                page += 1

    def _create_read(self, module: str, fields: Sequence[str], criteria: dict[str, Any], page: int) -> str:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/bulk-read/create-job.html
        query = {"module": {"api_name": zp.check_name(module)}, "fields": list(fields), "criteria": criteria}
        body = {"query": {**query, "page": page}, "file_type": "csv"}
        # Safe to repeat: a read job changes nothing (a lost answer costs one more job's credits).
        _, answer = self.api.call("POST", "read", safe=True, bulk=True, json=body)
        entries = zp.list_in(answer, "data")
        details = zp.dict_in(entries[0], "details") if entries and isinstance(entries[0], dict) else {}
        job_id = str(details.get("id") or "")
        if not job_id:
            raise Unavailable("Zoho's bulk read answer named no job.", error_type="UNREADABLE_ANSWER")
        return job_id

    # -- Bulk Write ---------------------------------------------------------------------------------
    def insert(
        self, module: str, rows: Sequence[dict[str, Any]], *, key_field: str, ledger: BulkLedger, ledger_key: str
    ) -> list[BulkRow]:
        """Insert up to 25,000 rows in one job (or finish the job the ledger already holds)."""
        scan = _scan(rows, key_field)
        job_id = ledger.job_id(ledger_key)
        if job_id:
            return self.finish(Pending(job_id, scan.keys, key_field))
        try:
            pending = self.submit(module, rows, key_field=key_field, ledger=ledger, ledger_key=ledger_key, scan=scan)
        except OutcomeUnknown:
            return self._recover(module, key_field, scan.keys)
        return self.finish(pending)

    def submit(
        self,
        module: str,
        rows: Sequence[dict[str, Any]],
        *,
        key_field: str,
        ledger: BulkLedger,
        ledger_key: str,
        scan: Scan | None = None,
    ) -> Pending:
        """Upload the rows and create the job; its id is in the ledger before this returns.
        `rows` is read twice (_scan, then the file), so a caller may stream them from its own spool;
        `scan`: what _scan read of them, when the caller read them already."""
        if not rows or len(rows) > WRITE_ROWS_MAX:
            raise Rejected(f"A bulk write takes 1 to {WRITE_ROWS_MAX:,} records.", error_type="LIMIT_EXCEEDED")
        scan = scan or _scan(rows, key_field)
        columns = scan.columns
        with tempfile.TemporaryFile() as spool:
            _write_zip(spool, module, columns, rows)
            file_id = self._upload(spool)
        lookup = {"find_by": "id"}
        mappings = [{"api_name": c, "index": i, **(lookup if c in scan.lookups else {})} for i, c in enumerate(columns)]
        resource = {"type": "data", "module": {"api_name": zp.check_name(module)}, "file_id": file_id}
        body = {"operation": "insert", "ignore_empty": True, "resource": [{**resource, "field_mappings": mappings}]}
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/bulk-write/create-job.html
        # Not safe to repeat: a lost answer is OutcomeUnknown (the job may run), never sent again.
        _, answer = self.api.call("POST", "write", safe=False, write=True, bulk=True, json=body)
        job_id = str(zp.dict_in(answer, "details").get("id") or "")
        if not job_id:
            raise OutcomeUnknown("Zoho's bulk write answer named no job.", error_type="UNREADABLE_ANSWER")
        ledger.save(ledger_key, job_id)
        return Pending(job_id, scan.keys, key_field)

    def finish(self, pending: Pending) -> list[BulkRow]:
        """Wait for a submitted job and map its result file's rows to ids."""
        self._wait("write", pending.job_id)
        out: list[BulkRow] = []
        for number, row in enumerate(self._rows("write", pending.job_id), start=1):
            key = row.get(pending.key_field, "") if pending.key_field else ""
            key = key or (pending.keys[number - 1] if number <= len(pending.keys) else "")
            ok = row.get("STATUS", "").lower() in ("added", "inserted")
            out.append(
                BulkRow(number, key, row.get("RECORD_ID", "") if ok else "", "" if ok else row.get("ERRORS", ""))
            )
        return out

    def _upload(self, spool: IO[bytes]) -> str:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/bulk-write/upload-file.html
        # (content.zohoapis.com on real Zoho [UNCONFIRMED that the API domain answers too]).
        size = spool.seek(0, io.SEEK_END)
        spool.seek(0)
        part = MultipartBody(spool, size, filename="records.zip")
        headers = {"Content-Type": part.content_type, "feature": "bulk-write", "X-CRM-ORG": self.org_id()}
        # Safe to repeat: a file uploaded twice is two file ids and no record (no job names it yet).
        _, answer = self.api.call("POST", "upload", safe=True, data=part, headers=headers, rewind=part.rewind)
        file_id = str(zp.dict_in(answer, "details").get("file_id") or "")
        if not file_id:
            raise Unavailable("Zoho's upload answer named no file.", error_type="UNREADABLE_ANSWER")
        return file_id

    def _recover(self, module: str, key_field: str, keys: tuple[str, ...]) -> list[BulkRow]:
        """The create call's answer was lost: find the rows by copy key while the job may run.
        Done when every key is found, or when some were found and none more for QUIET_SECONDS
        (the job ended; its other rows were refused), or at `wait_seconds` with none found (no
        job was made). [UNCONFIRMED] how steadily a job inserts: a pause longer than the quiet
        period would end the wait early, so it is long, and the engine reconciles again anyway."""
        found: dict[str, str] = {}
        wanted_keys = [k for k in keys if k]
        start = time.monotonic()
        changed = start
        while len(found) < len(wanted_keys) and time.monotonic() - start < self.wait_seconds:
            more = self.match_ids(module, key_field, [k for k in wanted_keys if k not in found])
            before = len(found)
            found |= {k: ids[0] for k, ids in more.items() if ids}
            changed = time.monotonic() if len(found) > before else changed
            if found and time.monotonic() - changed >= self.quiet_seconds:
                break
            if len(found) < len(wanted_keys):
                self.sleep(self.poll_seconds)
        return [BulkRow(n, k, found.get(k, ""), sent=k in found) for n, k in enumerate(keys, start=1)]

    # -- jobs -----------------------------------------------------------------------------------------
    def _wait(self, kind: str, job_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.wait_seconds
        while True:
            # Reference: https://www.zoho.com/crm/developer/docs/api/v7/bulk-write/job-details.html
            _, answer = self.api.call("GET", f"{kind}/{job_id}", safe=True, bulk=True)
            job = _job(answer)
            state = str(job.get("state") or job.get("status") or "")
            if state == DONE:
                return zp.dict_in(job, "result")
            if state in FAILED:
                raise Rejected(f"Zoho's bulk {kind} job {job_id} failed.", error_type="BULK_JOB_FAILED")
            if time.monotonic() >= deadline:
                raise Unavailable(f"Zoho's bulk {kind} job {job_id} is not done yet.", error_type="BULK_JOB_RUNNING")
            self.sleep(self.poll_seconds)

    def _rows(self, kind: str, job_id: str) -> Iterator[dict[str, str]]:
        """The result CSV's rows, read from a temporary file a row at a time."""
        with tempfile.TemporaryFile() as spool:
            with self.api.download(f"{kind}/{job_id}/result", bulk=True) as chunks:
                for chunk in chunks:
                    spool.write(chunk)
            spool.seek(0)
            yield from _csv_in_zip(spool)


def _job(answer: Any) -> dict[str, Any]:
    """Bulk Read answers `{"data": [job]}`, Bulk Write the job itself."""
    entries = zp.list_in(answer, "data") if isinstance(answer, dict) and "data" in answer else [answer]
    return entries[0] if entries and isinstance(entries[0], dict) else {}


def _csv_in_zip(spool: IO[bytes]) -> Iterator[dict[str, str]]:
    with zipfile.ZipFile(spool) as archive:
        names = [n for n in archive.namelist() if n.lower().endswith(".csv")]
        if not names:
            raise Unavailable("Zoho's bulk result holds no CSV.", error_type="UNREADABLE_ANSWER")
        with archive.open(names[0]) as raw, io.TextIOWrapper(raw, "utf-8-sig", newline="") as text:
            yield from csv.DictReader(text)


@dataclass(frozen=True)
class Scan:
    """What the upload needs of its rows, read in one pass (the rows may come from a spool): their
    copy keys, the file's columns (the copy key first: the result file repeats the first three
    columns), and the lookup columns (values `{"id": ...}`, matched by id in the target module)."""

    keys: tuple[str, ...]
    columns: list[str]
    lookups: frozenset[str]


def _scan(rows: Iterable[dict[str, Any]], key_field: str) -> Scan:
    seen: dict[str, None] = {key_field: None} if key_field else {}
    sampled: dict[str, bool] = {}  # column -> its first value given is a lookup
    keys = []
    for row in rows:
        keys.append(str(row.get(key_field) or ""))
        for name, value in row.items():
            if name not in seen and not name.startswith("$") and name != "id":
                seen[name] = None
            if value is not None and name not in sampled:
                sampled[name] = isinstance(value, dict)
    return Scan(tuple(keys), list(seen), frozenset(name for name, lookup in sampled.items() if lookup))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return str(value.get("id") or "")
    if isinstance(value, list):
        return ";".join(str(v) for v in value)  # multi-select picklists
    return str(value)


def _write_zip(spool: IO[bytes], module: str, columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
        with contextlib.ExitStack() as stack:
            raw = stack.enter_context(archive.open(f"{module}.csv", "w"))
            text = stack.enter_context(io.TextIOWrapper(raw, "utf-8", newline=""))
            writer = csv.writer(text)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_cell(row.get(c)) for c in columns])
