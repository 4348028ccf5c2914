"""Which values a re-run with `update` changes: what the copy would send against what the
existing record in the target holds now. Only the fields that differ are sent, and their current
values are kept first (`previous`), so an undo can write them back.

Values are compared as a person reads them: a lookup by the id it holds ({"id": …} or a bare id),
empty the same whatever its form (None, "", []), a multi-value picklist in any order, numbers
by value (10 and 10.0 are one number), a whole number and its digits as text alike (a system may
answer an id as a number, as Vault does its user fields, where the copy sends the id as text).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from records.copying.references import ref_id


def comparable(value: Any) -> Any:
    if value in (None, "", [], {}):
        return None
    if isinstance(value, dict):
        return ("ref", ref_id(value)) if "id" in value else tuple(sorted((k, comparable(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        items = [comparable(v) for v in value]
        return ("list", tuple(sorted(items, key=repr)))
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    return str(value)


def same(a: Any, b: Any) -> bool:
    one, other = comparable(a), comparable(b)
    if one == other:
        return True
    # A bare id and a lookup {"id": …} to the same record; a one-value list and its value.
    if isinstance(one, tuple) and one[:1] == ("ref",):
        one = one[1]
    if isinstance(other, tuple) and other[:1] == ("ref",):
        other = other[1]
    return bool(_digits_as_number(one) == _digits_as_number(other))


def _digits_as_number(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return float(int(value))
    return value


def differing(wanted: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """The values of `wanted` that the record (`current`) doesn't hold already."""
    return {k: v for k, v in wanted.items() if not same(v, current.get(k))}


def previous(changed: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """What the record held in each field an update changes (an undo writes them back)."""
    return {k: current.get(k) for k in changed}
