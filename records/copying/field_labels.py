"""The labels of the fields a job sets, per object of its plan, kept on the job (plan["field_labels"])
so that its page says "Price = 99.5" for a child's field as well as for the top record's, without
describing anything when the page is shown. Only the fields the copy can set are kept (the request's
overrides, the options' set/clear, make unique and lineage, the objects' name fields), not whole
describes: a plan of many objects stays small."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from records.connectors.base import FieldInfo
from records.copying.request import CopyRequest

Describe = Callable[[str], list[FieldInfo] | None]
Labels = dict[str, dict[str, str]]  # {object: {field: label}}


def set_fields(request: CopyRequest, object_name: str, name_fields: Iterable[str]) -> set[str]:
    """The fields a copy of `request` can give a value on `object_name`."""
    options = request.options
    names = {*name_fields, *options.fields_for(object_name), *options.unique.get(object_name, ())}
    if options.lineage.get(object_name):
        names.add(options.lineage[object_name])
    if object_name == request.object_name:
        names.update(request.overrides)
        for values in request.row_overrides.values():
            names.update(values)
    return names


def job_field_labels(
    *, request: CopyRequest, objects: Iterable[str], describe: Describe, name_fields: Iterable[str]
) -> Labels:
    """{object: {field: label}} for the fields the copy can set, of each object `describe` knows
    (an object it can't describe is left out: its page then shows the API names)."""
    names = tuple(name_fields)
    out: Labels = {}
    for obj in dict.fromkeys([request.object_name, *objects]):
        fields = describe(obj)
        if not fields:
            continue
        wanted = set_fields(request, obj, names)
        labels = {f.name: f.label for f in fields if f.name in wanted and f.label and f.label != f.name}
        if labels:
            out[obj] = labels
    return out


def safe(describe: Callable[[str], list[FieldInfo]]) -> Describe:
    """A connector's describe that answers None for an object it can't describe (labels are a
    nicety: a failed describe must not stop a job from being made)."""

    def described(object_name: str) -> list[FieldInfo] | None:
        try:
            return describe(object_name)
        except Exception:  # noqa: BLE001 - the page then shows the API names
            return None

    return described


CHANGED = ""  # the key of the plan's changes' labels in plan_field_labels' answer


def plan_field_labels(plan: dict[str, Any] | None) -> Labels:
    """{object: {field: label}} from a job's plan JSON: its field_labels, and under CHANGED the
    labels of the plan's changes (a job made before field_labels named only those)."""
    plan = plan or {}
    stored = plan.get("field_labels") or {}
    out: Labels = {o: dict(v) for o, v in stored.items() if isinstance(v, dict)}
    changes = plan.get("changes") or []
    out[CHANGED] = out.get(CHANGED, {}) | {
        c["field"]: c.get("label") or c["field"] for c in changes if isinstance(c, dict) and c.get("field")
    }
    return out


def labels_for(labels: Labels, object_name: str) -> dict[str, str]:
    """One object's field labels, the object's own first."""
    return {**labels.get(CHANGED, {}), **labels.get(object_name, {})}
