"""The reads a connector makes one record (or one value) a call where its system has no batched
read: the defaults of `Connector.names`, `field_values` and `find_among`, and what a connector falls
back on (Zoho's Users, its Notes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from records.connectors.errors import NotFound
from records.connectors.values import Record

GetRecord = Callable[[str, str], Record]


def names_one_by_one(get: GetRecord, object_name: str, ids: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for record_id in dict.fromkeys(str(i) for i in ids if i):
        try:
            out[record_id] = get(object_name, record_id).name
        except NotFound:
            continue
    return out


def field_values_one_by_one(
    get: GetRecord, object_name: str, ids: Sequence[str], fields: Sequence[str]
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for record_id in dict.fromkeys(str(i) for i in ids if i):
        try:
            values = get(object_name, record_id).fields
        except NotFound:
            continue
        out[record_id] = {f: values.get(f) for f in fields}
    return out


Find = Callable[..., list[Record]]


def find_among_one_by_one(
    find: Find,
    object_name: str,
    field: str,
    values: Sequence[str],
    created_since: dt.datetime | None,
    created_by: str,
) -> list[Record]:
    """One `find` a value, each record once."""
    out: dict[str, Record] = {}
    for value in dict.fromkeys(str(v) for v in values if v not in (None, "")):
        for record in find(object_name, {field: value}, created_since=created_since, created_by=created_by):
            out.setdefault(record.id, record)
    return list(out.values())
