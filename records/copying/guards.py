"""Which guard finds a copy whose create answer was lost, per object of a plan: its copy key, or
its values (name, parent, creation time and creator). The preview shows it, read from the
describes the plan stored (stored_plans._described): no remote call."""

from __future__ import annotations

from dataclasses import dataclass

from records.connectors import connector_class
from records.copying import stored_plans
from records.copying.tree import copy_key_field
from records.models import CopyPlan

COPY_KEY = "copy key"
VALUES = "name, parent and creation time"
MEANING = {
    COPY_KEY: "A lost answer is found by the key the copy carries.",
    VALUES: (
        "A lost answer is found by the copy's name, parent, creation time and creator; "
        "if two records fit, the row waits for you to pick."
    ),
    "": "Its fields could not be read with the plan, so which guard applies is known when the copy runs.",
}


@dataclass(frozen=True)
class Guard:
    object_name: str
    label: str
    kind: str  # COPY_KEY, VALUES, or "" when the plan holds no describe of the object
    field: str = ""  # the copy-key field

    @property
    def meaning(self) -> str:
        return MEANING[self.kind]


def plan_guards(*, row: CopyPlan, system: str) -> list[Guard]:
    """One Guard per object of a ready plan (the top object first), in the plan's order."""
    describe = stored_plans.described(row)
    # The connector class's names (no connector built, no call); settings.COPY_KEY_FIELDS wins.
    names = getattr(connector_class(system), "copy_key_fields", ())
    plan = stored_plans.shown_plan(row)
    labels = {o.object_name: o.label for o in plan.objects}
    out = []
    for name in dict.fromkeys([plan.object_name, *(o.object_name for o in plan.objects)]):
        fields = describe(name)
        if fields is None:
            out.append(Guard(name, labels.get(name, ""), ""))
            continue
        field = copy_key_field(fields, names)
        out.append(Guard(name, labels.get(name, ""), COPY_KEY if field else VALUES, field))
    return out
