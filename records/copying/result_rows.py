"""Result rows loaded in bulk for a run, and made in bulk for a new job, at a tenth of the ORM's
CPU per row."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from functools import cache
from typing import Any

from django.db.models import Field, QuerySet
from django.db.models.base import ModelState

from records.models import RecordResult

_COLUMNS = [f.attname for f in RecordResult._meta.concrete_fields]
_SHARED = ("object_name", "status", "error_type", "action")  # a handful of values over every row
CHUNK = 2000  # pks in one query (well under SQLite's limit of parameters)


def loaded(rows: QuerySet[RecordResult], *, without: tuple[str, ...] = ()) -> list[RecordResult]:
    """`rows` as model instances, every column loaded and converted as the ORM does it
    (values_list applies each field's from_db_value: the snapshots' JSON parsed once), without
    Model.__init__: its per-field setattr and signals cost ~24 µs a row against ~3 µs here, and a
    run loads every row of its tree. RecordResult has no __init__ of its own and no init signals.
    `without`: columns not read, left None (never written back: results.py writes named columns).
    The few values every row repeats (its object, its status) are one string, not one a row."""
    out = []
    db = rows.db
    columns = [c for c in _COLUMNS if c not in without]
    unread = dict.fromkeys(without)
    shared: dict[str, str] = {}
    at = [columns.index(c) for c in _SHARED]
    for values in rows.values_list(*columns):
        row = RecordResult.__new__(RecordResult)
        row.__dict__.update(zip(columns, values, strict=True))
        for i, name in zip(at, _SHARED, strict=True):
            value = values[i]
            row.__dict__[name] = shared.setdefault(value, value)
        if unread:
            row.__dict__.update(unread)
        state = row._state = ModelState()
        state.adding, state.db = False, db
        out.append(row)
    return out


def reloaded(pks: list[int]) -> list[RecordResult]:
    """The rows `pks`, in that order, read CHUNK at a time, without their snapshots."""
    by_pk: dict[int, RecordResult] = {}
    for start in range(0, len(pks), CHUNK):
        chunk = RecordResult.objects.filter(pk__in=pks[start : start + CHUNK])
        by_pk.update((r.pk, r) for r in loaded(chunk, without=("source_snapshot",)))
    return [by_pk[pk] for pk in pks if pk in by_pk]


def new_rows(job_id: int | None, values: Iterable[dict[str, Any]]) -> list[RecordResult]:
    """Unsaved rows of the job `job_id`, each its columns' defaults then `values` (by attname),
    without Model.__init__ (a bulk clone's plan makes 5,000 at once: ~45 µs a row through the
    constructor). A default that is a callable is called per row, as the constructor does, so no
    two rows share a mutable value. `job_id` None: rows made before their job (results.MadeAhead)."""
    base, called = _defaults()
    base = {**base, "job_id": job_id}
    out = []
    for given in values:
        row = RecordResult.__new__(RecordResult)
        row.__dict__.update(base)
        if called:
            row.__dict__.update({f.attname: f.get_default() for f in called})
        row.__dict__.update(given)
        row._state = ModelState()
        out.append(row)
    return out


@cache
def _defaults() -> tuple[dict[str, Any], list[Field[Any, Any]]]:
    """Every column's default (the constant ones), and the columns whose default is a callable."""
    fields = [f for f in RecordResult._meta.concrete_fields if isinstance(f, Field)]
    called = [f for f in fields if f.has_default() and callable(f.default)]
    return {f.attname: _plain(f.get_default()) for f in fields if f not in called}, called


def _plain(value: Any) -> Any:
    """A choices default (RecordResult.Status.PENDING) as its value ("pending"): equal to it, and
    written by results.insert as it is, with no per-row conversion."""
    return value.value if isinstance(value, Enum) else value
