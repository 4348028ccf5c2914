"""Veeva Vault record writes in batches: create (a clone is a create from `source_record_id`),
update and delete, and which field a refused duplicate names.

Facts and sources: ../shared/api-notes/vault.md (section numbers below refer to it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from records.connectors import vault_parse as vp
from records.connectors.base import Automation, CloneRequest, WriteResult
from records.connectors.vault_api import VaultApi

_DUPLICATE_RE = re.compile(r"already exists with \[(\w+)=")


class VaultWrites:
    """Writes records of the Vault, `batch_size` rows a call, never resent after a lost answer."""

    def __init__(self, api: VaultApi, *, batch_size: int) -> None:
        self.api = api
        self.batch_size = batch_size

    def clone(self, object_name: str, requests: Sequence[CloneRequest], automation: Automation) -> list[WriteResult]:
        """§4.1: create with `source_record_id` (a shallow copy); other values override it."""
        rows = [{"source_record_id": r.source_id, **r.overrides} for r in requests]
        return self._write_rows("POST", object_name, rows, _write_headers(automation))

    def create(self, object_name: str, rows: Sequence[dict[str, Any]], automation: Automation) -> list[WriteResult]:
        return self._write_rows("POST", object_name, [dict(r) for r in rows], _write_headers(automation))

    def update(self, object_name: str, rows: Sequence[dict[str, Any]], automation: Automation) -> list[WriteResult]:
        """§4.2 Update Object Records (PUT, `id` per row, each id once a call)."""
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/update-object-records/
        return self._write_rows("PUT", object_name, [dict(r) for r in rows], _write_headers(automation))

    def delete(self, object_name: str, ids: Sequence[str]) -> list[WriteResult]:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/delete-object-records/
        # No automation headers: §4.1 documents Record Migration Mode for creates (and updates).
        rows = [{"id": str(i)} for i in ids]
        return self._write_rows("DELETE", object_name, rows, {"Content-Type": "application/json"})

    @staticmethod
    def duplicate_field(outcome: WriteResult) -> str:
        # api-notes vault.md §8: uniqueness is OPERATION_NOT_ALLOWED "Another resource already exists with [f=v]".
        refused = outcome.error_type == "OPERATION_NOT_ALLOWED"
        match = _DUPLICATE_RE.search(outcome.error_message or "") if refused else None
        return match.group(1) if match else ""

    def _write_rows(
        self, method: str, object_name: str, rows: list[dict[str, Any]], headers: dict[str, str]
    ) -> list[WriteResult]:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/create-upsert-object-records/
        path = f"vobjects/{vp.vql_name(object_name)}"
        results: list[WriteResult] = []
        for start in range(0, len(rows), self.batch_size):
            batch = [_blanked(row) for row in rows[start : start + self.batch_size]]
            # Never resent after a lost answer (safe=False): the engine reconciles first.
            body = self.api.call(
                method,
                path,
                safe=False,
                write=True,
                data=json.dumps(batch, default=vp.json_default).encode(),
                headers=headers,
            )
            results.extend(vp.write_results(body, len(batch)))
        return results


def _blanked(values: dict[str, Any]) -> dict[str, Any]:
    """The values as Vault is sent them: None (a field cleared) as "". Copied only when one is None."""
    if None not in values.values():
        return values
    return {k: ("" if v is None else v) for k, v in values.items()}


def _write_headers(automation: Automation) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if automation.migration_mode:
        # api-notes vault.md §4.1; refused by Vault (its message on each row) without the permission.
        headers["X-VaultAPI-MigrationMode"] = "true"
        if automation.no_triggers:
            headers["X-VaultAPI-NoTriggers"] = "true"
    return headers
