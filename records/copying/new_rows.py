"""A new job's result rows as plain objects for results.insert, not model instances.

A plan of 10,000 records inserts 10,000 rows: RecordResult's constructor (a setattr and a default
per field, the init signals) cost ~30 µs a row, most of the plan's CPU after its reads. A NewRow
sets the eight values a plan knows; every other column reads the model's default from the class.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from records.models import RecordResult


class NewRow:
    """The columns results.insert reads, by their attribute names (`job_id` for the job)."""

    job_id: int
    object_name: str
    source_id: str
    source_name: str
    parent_source_id: str
    depth: int
    idempotency_key: str
    source_snapshot: dict[str, Any] | None
    # The rest keep the model's defaults (set below); existing.apply_to_rows may change these.
    new_id: str
    link: str
    status: str
    action: str
    updated: datetime | None

    def __init__(
        self,
        job_id: int,
        object_name: str,
        source_id: str,
        source_name: str,
        parent_source_id: str,
        depth: int,
        idempotency_key: str,
        source_snapshot: dict[str, Any] | None,
    ) -> None:
        self.job_id, self.object_name, self.source_id = job_id, object_name, source_id
        self.source_name, self.parent_source_id, self.depth = source_name, parent_source_id, depth
        self.idempotency_key, self.source_snapshot = idempotency_key, source_snapshot


def _set_defaults() -> None:
    # Every default is immutable (a str, 0 or None), so one shared class attribute is safe.
    for f in RecordResult._meta.concrete_fields:
        if not f.primary_key and f.attname not in NewRow.__init__.__code__.co_varnames:
            default = f.get_default()
            if not (default is None or isinstance(default, str | int)):
                raise TypeError(f"RecordResult.{f.attname}: a mutable default can't be shared by NewRows")
            setattr(NewRow, f.attname, default)


_set_defaults()
