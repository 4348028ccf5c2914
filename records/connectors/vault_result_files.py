"""The result files of a Vault deep-copy job (§5.3): the success and failure CSVs as
DeepCopyRow values. No HTTP here: `vault_jobs.py` fetches the files.

Facts and sources: ../shared/api-notes/vault.md (section numbers below refer to it).
"""

from __future__ import annotations

import csv
import io
import re

from records.connectors.base import DeepCopyRow


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


# UNCONFIRMED (§5.3, §11.1): the success file's columns are not documented. Accept the likely
# names for each value; a file without a new-id column leaves new_id empty so the engine falls
# back to querying the new hierarchy.
_OBJECT_COLUMNS = ("vobject", "object", "objectname", "sourceobject", "objecttype")
_SOURCE_COLUMNS = ("sourcerecordid", "sourceid", "source", "originalrecordid", "sourcerecord")
_NEW_COLUMNS = (
    "targetrecordid",
    "newrecordid",
    "targetid",
    "newid",
    "copyrecordid",
    "copiedrecordid",
    "recordid",
    "id",
)


def _pick(row: dict[str, str], names: tuple[str, ...]) -> str:
    for name in names:
        if row.get(name):
            return row[name].strip()
    return ""


def _csv_rows(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        return []
    keys = [_norm(h) for h in header]
    return [dict(zip(keys, row, strict=False)) for row in reader if any(c.strip() for c in row)]


def success_rows(text: str) -> list[DeepCopyRow]:
    out = []
    for row in _csv_rows(text):
        source = _pick(row, _SOURCE_COLUMNS)
        if source:
            out.append(DeepCopyRow(_pick(row, _OBJECT_COLUMNS), source, True, new_id=_pick(row, _NEW_COLUMNS)))
    return out


def failure_rows(text: str) -> list[DeepCopyRow]:
    """`line number,vobject,sourceRecordId,errors`; errors is a CSV list of "TYPE|message"."""
    out = []
    for row in _csv_rows(text):
        source = _pick(row, _SOURCE_COLUMNS)
        if not source:
            continue
        items = next(csv.reader([row.get("errors", "")]), []) if row.get("errors") else []
        parsed = [item.partition("|") for item in items if item.strip()]
        etype = parsed[0][0].strip() if parsed else "FAILURE"
        message = "; ".join((m or t).strip() for t, _, m in parsed) or "Not copied."
        out.append(DeepCopyRow(_pick(row, _OBJECT_COLUMNS), source, False, error_type=etype, error_message=message))
    return out
