"""What the "Fix failed rows" page offers: the rows that can be fixed, the fields a person may set
on each of their objects (labels, the name field first), and the fixes made so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from records.connectors import connector_for
from records.connectors.base import Connector
from records.connectors.errors import ConnectorError
from records.copying.job_rules import can_fix
from records.copying.row_fixes import FIXABLE
from records.models import AnyUser, CopyJob, RecordResult, RowFix

ROWS_SHOWN = 200


@dataclass
class FixChoices:
    allowed: bool
    reason: str
    rows: list[RecordResult] = field(default_factory=list)
    failed: int = 0  # every fixable row, also those past ROWS_SHOWN
    # {object: [(field, label), ...]}: settable fields, the object's name field first.
    fields: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    history: list[RowFix] = field(default_factory=list)
    read_error: str = ""

    def fields_of(self, row: RecordResult) -> list[tuple[str, str]]:
        return self.fields.get(row.object_name, [])


def fix_choices(*, job: CopyJob, user: AnyUser, connector: Connector | None = None) -> FixChoices:
    """The page's content; the fields are read from the system only when fixing is allowed."""
    allowed, reason = can_fix(job, user)
    history = list(RowFix.objects.filter(job=job).select_related("row", "user").order_by("-id")[:ROWS_SHOWN])
    choices = FixChoices(allowed, reason, history=history)
    if not allowed:
        return choices
    fixable = job.results.defer("source_snapshot").filter(status__in=FIXABLE).order_by("depth", "id")
    choices.rows, choices.failed = list(fixable[:ROWS_SHOWN]), fixable.count()
    objects = {r.object_name for r in choices.rows}
    try:
        _read_fields(choices, connector or connector_for(job.write_profile), objects)  # set where the copy is written
    except ConnectorError as exc:
        choices.read_error = str(exc.message or exc)
    return choices


def _read_fields(choices: FixChoices, conn: Connector, objects: set[str]) -> None:
    for object_name in sorted(objects):
        infos = conn.describe(object_name)
        settable = [i for i in infos if i.editable and not i.system_managed_name]
        settable.sort(key=lambda i: (i.name not in conn.name_fields, (i.label or i.name).lower()))
        choices.fields[object_name] = [(i.name, i.label or i.name) for i in settable]


def shown_value(value: Any) -> str:
    """A before or after value as the page writes it: “…”, or “(empty)”."""
    return "(empty)" if value in (None, "") else f"“{value}”"
