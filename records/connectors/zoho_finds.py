"""What Zoho's reconciliation look-ups (ZohoReads.find, find_among) ask and compare: the creation
conditions of a COQL look-up, and the same conditions applied here to records read another way
(Notes, which COQL can't read)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from records.connectors import zoho_parse as zp
from records.connectors.errors import Rejected
from records.connectors.values import FieldInfo, Record


def check_fields(module: str, names: Iterable[str], fields: Iterable[FieldInfo]) -> None:
    """Refuse a look-up on a field the module doesn't have (its name goes into COQL)."""
    known = {f.name for f in fields} | {"id"}
    for name in names:
        if zp.check_name(name) not in known:
            raise Rejected(f"{module} has no field {name}.", error_type="INVALID_FIELD", field=name)


def stamp_conditions(created_since: dt.datetime | None, created_by: str) -> list[str]:
    conditions = []
    if created_since is not None:
        conditions.append(f"{zp.CREATED_FIELD} >= {zp.coql_datetime(created_since)}")
    if created_by:
        # A lookup compares with the record's id as a quoted string (§4.4's Account_Name = '<id>').
        conditions.append(f"{zp.CREATED_BY_FIELD} = {zp.coql_literal(created_by)}")
    return conditions


def matches(record: Record, equals: dict[str, str], *, created_since: dt.datetime | None, created_by: str) -> bool:
    """Whether a record meets find()'s conditions, compared as COQL would compare them."""
    if not all(zp.ref_id(record.fields.get(k)) == zp.ref_id(v) for k, v in equals.items()):
        return False
    if created_since is not None and (record.created is None or record.created < floor_second(created_since)):
        return False
    return not (created_by and record.created_by != str(created_by))


def floor_second(value: dt.datetime) -> dt.datetime:
    """The bound as COQL would apply it: UTC, whole seconds (zp.coql_datetime)."""
    value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value.replace(microsecond=0)
