""" "Make unique": a copy refused because a chosen unique field's value exists is sent again with
" (2)", " (3)" ... appended (cut to fit the field), at most MAX_TRIES times, each try kept on the
row (values["_unique_tries"]). Each try goes through the write protocol like the first (SENDING
committed before it; a lost answer reconciled by reconcile.py with the numbered value, never by a
record merely having the same name): the writer sends it, MakeUnique.renumber only numbers it."""

from __future__ import annotations

from typing import Any

from records.copying import results as res
from records.copying.run_context import RunContext
from records.models import RecordResult

S = RecordResult.Status
MAX_TRIES = 20
TRIES = "_unique_tries"
BASE = "_unique_base"


def numbered(base: str, n: int, max_length: int | None) -> str:
    suffix = f" ({n})"
    if max_length and len(base) + len(suffix) > max_length:
        base = base[: max(0, max_length - len(suffix))]
    return base + suffix


class MakeUnique:
    """The numbering of one run's chosen unique fields (options.unique), the writer's `renumber`."""

    def __init__(self, context: RunContext) -> None:
        self.context = context

    def renumber(self, row: RecordResult, duplicate: str, payload: dict[str, Any]) -> bool:
        """Number the value of `duplicate` in the payload (and on the row) for another try: True
        when the row is to be sent again. False when the field is not one to make unique, the value
        is not text, or the tries are used up (the row's error then says so)."""
        wanted = self.context.options.unique.get(row.object_name)
        if not wanted:
            return False
        values = dict(row.values or {})
        tries: list[str] = list(values.get(TRIES, []))
        if len(tries) >= MAX_TRIES:
            res.fail(row, row.error_type, f"{row.error_message} Made unique {len(tries)} times; still a duplicate.")
            res.save([row])
            return False
        if duplicate not in wanted or not isinstance(payload.get(duplicate), str):
            return False
        base: dict[str, str] = dict(values.get(BASE, {}))
        base.setdefault(duplicate, payload[duplicate])
        infos = {f.name: f for f in self.context.describe(row.object_name)}
        max_length = infos[duplicate].max_length if duplicate in infos else None
        value = numbered(base[duplicate], len(tries) + 2, max_length)
        tries.append(value)
        payload[duplicate] = value  # the call reads its values from the payload
        values.update({duplicate: value, TRIES: tries, BASE: base})
        row.values = dict(values)
        row.status, row.error_type, row.error_message = S.PENDING, "", ""
        return True


def numbered_values(values: dict[str, Any] | None) -> dict[str, Any]:
    """The values a row was given by earlier tries ({field: its last numbered value}): what a
    call made again sends, since the values computed afresh hold the first, taken, value."""
    values = values or {}
    return {name: values[name] for name in values.get(BASE, {}) if name in values}


def tries_of(values: dict[str, Any] | None) -> dict[str, Any]:
    """The keys that record a row's tries (kept on the row, never sent)."""
    return {k: v for k, v in (values or {}).items() if k in (TRIES, BASE)}
