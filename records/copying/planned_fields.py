"""The top object's fields as a clone's plan read them, kept on its job (plan["planned_fields"]), so
that its run sends the first calls beside its own describe of the object rather than after it: a
round trip sooner (clone.py). Kept only for a clone in its own profile that sets, stamps, numbers
and masks nothing per object: its payloads then depend on nothing else a describe gives. A run that
finds a field to mask (a policy added since the plan) describes first, as before.

What the run takes from them (run_context.RunContext):
- the unique fields a copy clears: those the plan showed, for the whole run and any resume of it,
  so every payload of the job clears the same fields;
- the copy-key field, only while the object still has it (RunContext.key_field, once the run's
  describe is back).
  A key field the object lost, gained or changed since the plan is not used at all: a lost answer
  is found again only by what its copy was sent with, so the job's copies are then found by their
  values (reconcile.py), as on a vault without one, never by a key its first calls did not send.
"""

from __future__ import annotations

from typing import Any

from records.connectors.base import FieldInfo
from records.copying.field_labels import Describe
from records.copying.request import CopyRequest
from records.copying.tree import copy_key_names
from records.models import CopyJob

KEY = "planned_fields"


def kept(request: CopyRequest, describe: Describe, key_names: tuple[str, ...]) -> dict[str, Any]:
    """{KEY: {object: fields}} for the job's plan, or {} when its run describes first: the fields a
    clone's payloads depend on, the unique ones and those that may be its copy key."""
    if request.mode != CopyJob.Mode.CLONE or request.target is not None or request.options.per_object():
        return {}
    fields = describe(request.object_name)
    if fields is None:
        return {}
    names = {*copy_key_names(key_names), *copy_key_names()}
    return {KEY: {request.object_name: [f.as_dict() for f in fields if f.unique or f.name in names]}}


def restored(plan: dict[str, Any] | None, object_name: str) -> list[FieldInfo] | None:
    """The fields a job's plan kept of `object_name`; None when it kept none."""
    stored = ((plan or {}).get(KEY) or {}).get(object_name)
    return None if stored is None else [FieldInfo.from_dict(f) for f in stored]
