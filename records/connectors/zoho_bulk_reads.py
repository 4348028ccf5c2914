"""A level of a Zoho tree too large for one COQL page, read by Bulk Read when the rule says so.

COQL's first page of a chunk of parents says whether more rows follow; only then is the chunk's
size asked (one COUNT query, the lowest credit tier) and the rule (zoho_bulk_costs.read_choice)
weighed at that size: paged COQL, or one bulk job whose result file is streamed a row at a time.
What was chosen, and why, is kept per module for the plan (`taken`, ZohoConnector.level_paths).
A small level costs nothing more: one page, no count.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from records.connectors import zoho_parse as zp
from records.connectors.values import FieldInfo, FieldType
from records.connectors.zoho_bulk import ZohoBulk
from records.connectors.zoho_bulk_costs import ASSUMED_LATENCY, BulkReadTerms, read_choice
from records.connectors.zoho_reads import ZohoReads


class BulkLevels:
    def __init__(self, reads: ZohoReads, bulk: ZohoBulk, *, concurrency: int) -> None:
        self.reads, self.bulk = reads, bulk
        self.concurrency = max(1, concurrency)
        self.terms = BulkReadTerms()
        # {module: the read's PathChoice.as_dict()}: a job's where any chunk took one, else the last
        # chunk weighed (a connector serves one job, or one preview, at a time).
        self.taken: dict[str, dict[str, Any]] = {}

    def __call__(
        self, module: str, parent_field: str, parent_ids: list[str], columns: list[str]
    ) -> Iterator[dict[str, Any]] | None:
        """The rows of `module` under `parent_ids` by one bulk job, or None: go on with COQL."""
        where = f"{parent_field} in ({', '.join(zp.coql_literal(i) for i in parent_ids)})"
        rows = self.reads.count(module, where)
        choice = read_choice(
            rows, len(parent_ids), latency=ASSUMED_LATENCY, concurrency=self.concurrency, terms=self.terms
        )
        if self.taken.get(module, {}).get("path") != "bulk":  # a level read partly by a job says so
            self.taken[module] = choice.as_dict()
        if choice.path != "bulk":
            return None
        fields = {f.name: f for f in self.reads.metadata.describe(module)}
        wanted = [c for c in columns if c != "id"]
        found = self.bulk.read(module, wanted, field=parent_field, values=parent_ids)
        return (_raw(row, fields) for row in found)


def _raw(row: dict[str, str], fields: dict[str, FieldInfo]) -> dict[str, Any]:
    """A CSV row as COQL would answer it: the id in "id", a lookup as {"id"}, typed numbers and
    booleans, an empty cell as None."""
    out: dict[str, Any] = {"id": row.get("Id", "")}
    for name, text in row.items():
        if name != "Id":
            out[name] = _value(text, fields.get(name))
    return out


def _value(text: str, info: FieldInfo | None) -> Any:
    if text == "" or info is None:
        return text or None
    try:
        if info.type == FieldType.REFERENCE:
            return {"id": text}
        if info.type == FieldType.BOOLEAN:
            return text.lower() == "true"
        if info.type == FieldType.NUMBER:
            return int(text)
        if info.type == FieldType.DECIMAL:
            return float(text)
    except ValueError:
        return text  # not what the field's type says: kept as given, the write checks it
    return text
