"""A template version's copy definition: the JSON CopyRequest already stores (key_inputs, as plans
and drafts keep it, with the profile's code), and the CopyRequest a run makes of it. Keyword-only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from typing import Any

from django.core.exceptions import ValidationError

from records.connectors.base import FieldInfo
from records.connectors.errors import NotFound
from records.copying.options import CopyOptions
from records.copying.request import CopyRequest
from records.models import AnyUser, ConnectionProfile


def definition_of(request: CopyRequest) -> dict[str, Any]:
    """What a version stores of `request`: the draft's fields (web/drafts.py) with its options."""
    return {"profile": str(request.profile.code), **request.key_inputs()}


def saved_request(definition: dict[str, Any], *, user: AnyUser, name: str) -> CopyRequest:
    """The copy a version defines, its profiles as `user` may use them now; a profile deleted or no
    longer shared is refused (one message for both: nobody learns what others hold)."""
    return CopyRequest(
        profile=_profile(definition.get("profile"), user=user, name=name, role="copies from"),
        target=_profile(definition["target"], user=user, name=name, role="copies into")
        if definition.get("target")
        else None,
        object_name=definition["object_name"],
        source_ids=tuple(definition.get("source_ids") or ()),
        mode=definition["mode"],
        overrides=definition.get("overrides") or {},
        row_overrides=definition.get("row_overrides") or {},
        options=CopyOptions.from_dict(definition.get("options")),
    )


def _profile(code: Any, *, user: AnyUser, name: str, role: str) -> ConnectionProfile:
    found = ConnectionProfile.objects.for_user(user).filter(code=code).first() if code else None
    if found is None:
        raise ValidationError(
            f"The template {name} {role} a profile that no longer exists or is not shared with you: "
            "edit the template or ask its owner."
        )
    return found


def for_run(
    saved: CopyRequest,
    *,
    source_ids: Sequence[str] = (),
    target: ConnectionProfile | None = None,
    mode: str = "",
    overrides: dict[str, Any] | None = None,
    options: CopyOptions | None = None,
) -> CopyRequest:
    """`saved` for one run: on `source_ids` (none: the saved filter), into `target` if given, with
    this run's overrides and every option it sets over the saved one's."""
    run_options = merged_options(saved.options, options or CopyOptions())
    ids = [str(i).strip() for i in source_ids if str(i).strip()]
    if ids and options and options.source_filter:
        raise ValidationError("Give record ids or a filter for this run, not both.")
    if ids:
        run_options = replace(run_options, source_filter="", source_limit=None)  # ids given: exactly those
    elif not run_options.source_filter:  # no ids: the saved filter finds them (copying/source_query.py)
        raise ValidationError("Give the records to copy: this template has no saved filter.")
    return replace(
        saved,
        source_ids=tuple(ids),
        target=target or saved.target,
        mode=mode or saved.mode,
        overrides={**saved.overrides, **(overrides or {})},
        # Per-record values only for the records of this run (the job refuses others).
        row_overrides={k: v for k, v in saved.row_overrides.items() if k in ids},
        options=run_options,
    )


def merged_options(saved: CopyOptions, run: CopyOptions) -> CopyOptions:
    """`saved` with every option `run` sets (not its default) over it; per-object choices merge
    per object, and the fields of one object per field."""
    default = CopyOptions()
    changed: dict[str, Any] = {}
    for f in fields(CopyOptions):
        value = getattr(run, f.name)
        if value == getattr(default, f.name):
            continue
        base = getattr(saved, f.name)
        if f.name == "fields":
            value = {obj: {**base.get(obj, {}), **value.get(obj, {})} for obj in {*base, *value}}
        elif isinstance(value, dict):
            value = {**base, **value}
        changed[f.name] = value
    return replace(saved, **changed)


def check_fields(request: CopyRequest, *, describe: Callable[[str], list[FieldInfo]], name: str) -> None:
    """Every field the definition names still exists in its object's metadata (a remote describe
    per object), else one clear refusal before anything is planned or queued."""
    missing: list[str] = []
    for object_name, names in named_fields(request).items():
        try:
            known = {f.name for f in describe(object_name)}
        except NotFound:
            missing.append(f"the object {object_name}")
            continue
        missing += [f"{object_name}.{n}" for n in sorted(names - known)]
    if missing:
        raise ValidationError(
            f"The template {name} names what no longer exists in {request.profile.name}: "
            f"{', '.join(missing)}. Edit the template."
        )


def named_fields(request: CopyRequest) -> dict[str, set[str]]:
    """{object: fields} the definition sets, clears, makes unique or stamps."""
    options = request.options
    named: dict[str, set[str]] = {request.object_name: set(request.overrides)}
    for values in request.row_overrides.values():
        named[request.object_name] |= set(values)
    for object_name, values in options.fields.items():
        named.setdefault(object_name, set()).update(values)
    for object_name, unique in options.unique.items():
        named.setdefault(object_name, set()).update(unique)
    for object_name, stamp in options.lineage.items():
        named.setdefault(object_name, set()).add(stamp)
    return named
