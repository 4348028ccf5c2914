"""Zoho CRM writes: the Record Clone action, insert, update and delete in batches, and how per-row
outcomes become results or one error for the engine to reconcile.

Facts and sources: ../shared/api-notes/zoho.md (section numbers below refer to it).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from records.connectors import zoho_parse as zp
from records.connectors.base import Automation, CloneRequest, WriteResult
from records.connectors.errors import ConnectorError, OutcomeUnknown, Rejected, Unavailable
from records.connectors.zoho_api import ZohoApi
from records.connectors.zoho_reads import ZohoReads

WRITE_BATCH = 100  # §3.1 insert/upsert, §3.4 notes, §8 delete: at most 100 per call
SKIP_CADENCES = {"skip_feature_execution": [{"name": "cadences"}]}

Outcome = WriteResult | ConnectorError  # a row's result, or the error its call raised


class ZohoWrites:
    """Writes records of the org. Each new record's module is told to `reads`, which addresses
    Notes' parents and related lists by module."""

    def __init__(self, api: ZohoApi, reads: ZohoReads, *, concurrency: int) -> None:
        self.api = api
        self.reads = reads
        self.concurrency = concurrency

    # -- clone (one record a call) -------------------------------------------------------------
    def clone(self, object_name: str, requests: Sequence[CloneRequest], automation: Automation) -> list[WriteResult]:
        module = zp.check_name(object_name)
        if not requests:
            return []
        workers = max(1, min(self.concurrency, len(requests)))
        if workers == 1:
            outcomes = [self._clone_one(module, r, automation) for r in requests]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                outcomes = list(pool.map(lambda r: self._clone_one(module, r, automation), requests))
        return _settle(outcomes)

    def _clone_one(self, module: str, request: CloneRequest, automation: Automation) -> Outcome:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/record-clone.html
        # No body when there are no overrides (what Zoho's own SDK sends); else {"data": [overrides]}.
        kwargs: dict[str, Any] = {"json": {"data": [dict(request.overrides)]}} if request.overrides else {}
        if automation.skip_cadences:
            # The one documented input key besides `data`, beside it (api-notes zoho.md, Record Clone).
            kwargs = {"json": {"data": [dict(request.overrides)], **SKIP_CADENCES}}
        path = self.api.module_path(module, request.source_id, "actions", "clone")
        try:
            _, body = self.api.call("POST", path, safe=False, write=True, **kwargs)
        except Rejected as exc:
            return _refused_clone(exc)
        except ConnectorError as exc:
            return exc
        data = body.get("data") if isinstance(body, dict) else None
        result = zp.write_result(data[0] if isinstance(data, list) and data else None)
        if result.ok:
            self.reads.remember(result.new_id, module)
        return result

    # -- insert and update (WRITE_BATCH rows a call) -------------------------------------------
    def create(self, object_name: str, rows: Sequence[dict[str, Any]], automation: Automation) -> list[WriteResult]:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/insert-records.html
        module = zp.check_name(object_name)
        if module == "Notes":
            rows = [self._note_row(r) for r in rows]
        return self._batched(module, rows, automation, method="POST")

    def update(self, object_name: str, rows: Sequence[dict[str, Any]], automation: Automation) -> list[WriteResult]:
        """§3.3 Update Records: `PUT /{module}`, at most 100 rows a call, each with its `id`; a
        partial update (only the fields given change). Results in input order.

        Callers send plain fields and lookups only: a subform row without `id` is appended (§7), so
        an update carrying subform rows would not repeat harmlessly after a lost answer."""
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/update-records.html
        module = zp.check_name(object_name)
        if not all(str(r.get("id") or "") for r in rows):
            raise ValueError("Every row of an update needs the id of the record it changes.")
        return self._batched(module, rows, automation, method="PUT")

    def _batched(
        self, module: str, rows: Sequence[dict[str, Any]], automation: Automation, *, method: str
    ) -> list[WriteResult]:
        outcomes: list[Outcome] = []
        for start in range(0, len(rows), WRITE_BATCH):
            batch = [dict(r) for r in rows[start : start + WRITE_BATCH]]
            try:
                _, answer = self.api.call(
                    method, self.api.module_path(module), safe=False, write=True, json=_batch_body(batch, automation)
                )
            except ConnectorError as exc:
                outcomes.extend([exc] * len(batch))
                break  # later batches aren't sent; _settle decides what the caller hears
            outcomes.extend(self._batch_results(module, batch, answer, method=method))
        outcomes.extend([Unavailable("Not sent.", error_type="NOT_SENT")] * (len(rows) - len(outcomes)))
        return _settle(outcomes)

    def _batch_results(self, module: str, batch: list[dict[str, Any]], answer: Any, *, method: str) -> list[Outcome]:
        data = answer.get("data") if isinstance(answer, dict) else None
        data = data if isinstance(data, list) else []
        results: list[Outcome] = []
        for index in range(len(batch)):
            entry = data[index] if index < len(data) else None
            if method == "PUT":
                result = zp.update_result(entry, str(batch[index]["id"]))
            else:
                result = zp.write_result(entry)
            if result.ok:
                self.reads.remember(result.new_id, module)
            results.append(result)
        return results

    def _note_row(self, row: dict[str, Any]) -> dict[str, Any]:
        """§3.4 (v7): Parent_Id is {module:{api_name}, id}; fill the module when only the id is known."""
        row = dict(row)
        parent = row.get("Parent_Id")
        se_module = row.pop("$se_module", "")
        parent_id = zp.ref_id(parent)
        module = ""
        if isinstance(parent, dict) and isinstance(parent.get("module"), dict):
            module = str(parent["module"].get("api_name") or "")
        module = (
            module
            or (se_module if isinstance(se_module, str) else "")
            or (self.reads.module_of(parent_id) if parent_id else "")
        )
        if parent_id and module:
            row["Parent_Id"] = {"module": {"api_name": zp.check_name(module)}, "id": parent_id}
        return row

    # -- delete (WRITE_BATCH ids a call) -------------------------------------------------------
    def delete(self, object_name: str, ids: Sequence[str]) -> list[WriteResult]:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/delete-records.html
        module = zp.check_name(object_name)
        outcomes: list[Outcome] = []
        for start in range(0, len(ids), WRITE_BATCH):
            chunk = [str(i) for i in ids[start : start + WRITE_BATCH]]
            # Not safe to repeat: a repeated delete answers "record not deleted" for rows the lost
            # first attempt already deleted, so a lost answer is OutcomeUnknown and gets reconciled.
            try:
                _, answer = self.api.call(
                    "DELETE",
                    self.api.module_path(module),
                    safe=False,
                    write=True,
                    params={"ids": ",".join(chunk), "wf_trigger": "false"},
                )
            except ConnectorError as exc:
                outcomes.extend([exc] * len(chunk))
                break
            outcomes.extend(_delete_results(chunk, answer))
        outcomes.extend([Unavailable("Not sent.", error_type="NOT_SENT")] * (len(ids) - len(outcomes)))
        return _settle(outcomes)


def _batch_body(batch: list[dict[str, Any]], automation: Automation) -> dict[str, Any]:
    # "trigger": [] — no workflows, approvals or blueprints fire on copies (§3.1; updates
    # take the same body, §3.3), unless the user lets them (omitted: they run).
    body: dict[str, Any] = {"data": batch, **({} if automation.run_workflows else {"trigger": []})}
    if automation.skip_cadences:
        # Inserts (§3.1) and, as §3.2 lists the key for updates too, the second pass's updates.
        body.update(SKIP_CADENCES)
    return body


def _refused_clone(exc: Rejected) -> WriteResult:
    """A record-level refusal without a data array (e.g. unknown source id) is this row's result."""
    api_name = exc.details.get("api_name")
    field = api_name if isinstance(api_name, str) else ""
    return WriteResult(
        ok=False,
        error_type=exc.error_type,
        error_message=exc.message,
        field=field,
        existing_id=str(exc.details.get("id") or "") if exc.error_type == "DUPLICATE_DATA" else "",
    )


def _delete_results(chunk: list[str], answer: Any) -> list[Outcome]:
    """One result per id, matched by the id each entry names (else by position)."""
    data = zp.list_in(answer, "data")
    by_id = {}
    for entry in data:
        _, _, details = zp.envelope(entry)
        if details.get("id") is not None:
            by_id[str(details["id"])] = entry
    results: list[Outcome] = []
    for index, rid in enumerate(chunk):
        entry = by_id.get(rid, data[index] if index < len(data) and not by_id else None)
        result = zp.write_result(entry)
        if result.ok:
            result.new_id = ""
        results.append(result)
    return results


def _settle(outcomes: list[Outcome]) -> list[WriteResult]:
    """Turn per-row outcomes into results, or raise when the batch as a whole is uncertain.

    Rows that raised: if any write may have been applied (OutcomeUnknown, or an error after other
    rows succeeded), the engine must reconcile the batch → OutcomeUnknown. If nothing was applied,
    re-raise the first error so the engine can retry (RateLimited/Unavailable) or fail the rows.
    """
    errors = [o for o in outcomes if isinstance(o, ConnectorError)]
    if not errors:
        return [o for o in outcomes if isinstance(o, WriteResult)]
    applied = any(isinstance(o, WriteResult) and o.ok for o in outcomes)
    unknown = next((e for e in errors if isinstance(e, OutcomeUnknown)), None)
    if unknown is not None:
        raise unknown
    if applied:
        raise OutcomeUnknown(
            "Part of the batch was written before an error; the rest may or may not have been applied.",
            error_type="PARTIAL_BATCH",
        )
    raise errors[0]
