"""Fix failed rows, then resume: a person corrects the values of a job's failed (or skipped) rows,
one row or all of them, with a value, a template rendered now for each row, or "make unique" (the
first free " (n)"). The fixes are kept on each row (RecordResult.fixes, sent last over every other
value by the resume that follows) and in its history (RowFix: who, when, before → after), and the
audit trail says `job.fix`. Keyword-only, shared by the views and the `job fix` command.

The remote reads (the fields, the sources, the checks) happen before the transaction that writes
the fixes, which checks the rule and the rows' status again: a job resumed meanwhile is refused."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from records.connectors import connector_for
from records.connectors.base import Connector, FieldInfo
from records.copying import value_templates
from records.copying.job_actions import copy_job_resume
from records.copying.job_rules import can_fix
from records.copying.options import CopyOptions
from records.copying.remote_checks import remote_errors
from records.copying.unique import MAX_TRIES, numbered
from records.copying.validation import coerce_override, override_errors
from records.copying.ways import DeepCopyWay, deep_copy_way
from records.lib.audit import audit_log
from records.models import AnyUser, CopyJob, RecordResult, RowFix

S = RecordResult.Status
FIXABLE = (S.FAILED, S.SKIPPED)
PARENT_ERRORS = ("PARENT_NOT_COPIED", "PARENT_IN_REVIEW")  # engine_deep_copy.py, vault_deep_copy.py


@dataclass
class _Fixing:
    """One fix being worked out: the rows, their object's fields, the sources read so far. `conn`
    is where the copies are written (the fields, the checks, the free numbers), `reader` where the
    sources are read: the same but for a copy into another profile."""

    job: CopyJob
    conn: Connector
    rows: list[RecordResult]
    infos: dict[str, FieldInfo]
    reader: Connector
    sources: dict[int, dict[str, Any]] = field(default_factory=dict)

    def source(self, row: RecordResult) -> dict[str, Any]:
        if row.pk not in self.sources:
            snapshot = (row.source_snapshot or {}).get("fields")
            self.sources[row.pk] = snapshot or self.reader.get(row.object_name, row.source_id).fields
        return self.sources[row.pk]

    def before(self, row: RecordResult, name: str) -> Any:
        """What the row would send for `name` now: its last fix, the value its copy was given,
        else the source's (a clone inherits it)."""
        for held in (row.fixes or {}, row.values or {}):
            if name in held:
                return held[name]
        return self.source(row).get(name)


def copy_rows_fix(
    *,
    job: CopyJob,
    user: AnyUser,
    rows: Iterable[int] = (),
    all_failed: bool = False,
    values: dict[str, Any] | None = None,
    make_unique: str = "",
    connector: Connector | None = None,
    source: Connector | None = None,
) -> list[RowFix]:
    """Fix the rows `rows` (their ids), or every failed row (`all_failed`): set `values` ({field:
    value or template}), or make `make_unique`'s value unique. Returns the fixes made.
    `connector`: the write profile's (the target's for a copy into another profile); `source`:
    the source profile's, read for templates (the same connector when there is no target)."""
    if bool(values) == bool(make_unique):
        raise ValidationError("Say what to change: values to set, or one field to make unique.")
    _allowed(job, user)
    conn = connector or connector_for(job.write_profile)
    reader = source or (connector_for(job.profile) if job.target_profile_id else conn)
    chosen = _chosen_rows(job, conn, list(rows), all_failed)
    fixing = _Fixing(job, conn, chosen, {f.name: f for f in conn.describe(chosen[0].object_name)}, reader)
    wanted = _unique_values(fixing, make_unique) if make_unique else _set_values(fixing, values or {})
    befores = {row.pk: {name: fixing.before(row, name) for name in wanted[row.pk]} for row in chosen}
    labels = {name: info.label or name for name, info in fixing.infos.items()}
    return _save(fixing.job, wanted, befores, labels, user, how="make_unique" if make_unique else "set")


def copy_rows_fix_and_resume(*, job: CopyJob, user: AnyUser, enqueue: bool = True, **fix: Any) -> list[RowFix]:
    """The fix, then the resume that sends the fixed rows (and the job's other unfinished ones)."""
    made = copy_rows_fix(job=job, user=user, **fix)
    copy_job_resume(job=job, user=user, enqueue=enqueue)
    return made


def _allowed(job: CopyJob, user: AnyUser) -> CopyJob:
    job = CopyJob.objects.select_related("profile").get(pk=job.pk)
    allowed, reason = can_fix(job, user)
    if not allowed:
        raise ValidationError(reason)
    return job


def _chosen_rows(job: CopyJob, conn: Connector, ids: list[int], all_failed: bool) -> list[RecordResult]:
    """The rows to fix, all of one object. A deep copy Vault makes itself takes values only for its
    top record (Vault copies the rest as they are); a copy into another profile is always engine-built."""
    native = (
        job.mode == CopyJob.Mode.DEEP_COPY
        and not job.target_profile_id
        and (deep_copy_way(conn, CopyOptions.from_dict(job.options), job.object_name) == DeepCopyWay.SYSTEM)
    )
    qs = job.results.filter(status__in=FIXABLE).order_by("id")
    if all_failed:
        # Not the rows that failed only because their parent did: the resume sends them as they are.
        own = qs.filter(status=S.FAILED).exclude(error_type__in=PARENT_ERRORS)
        chosen = list(own.filter(depth=0) if native else own)
    else:
        chosen = list(qs.filter(pk__in=ids))
        if not ids or len(chosen) != len(set(ids)):
            raise ValidationError("Only this job's failed or skipped records can be fixed.")
        if native and any(r.depth for r in chosen):
            raise ValidationError(
                "Vault copies the records below the top one itself: only the top record takes values."
            )
    if not chosen:
        raise ValidationError("No record failed: nothing to fix.")
    if len({r.object_name for r in chosen}) > 1:
        raise ValidationError("These records are of different objects: fix one object's records at a time.")
    return chosen


def _set_values(fixing: _Fixing, values: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """Each row's values: coerced to the fields' types, templates rendered from the row's source,
    checked as the copy form checks them (types, then references and unique values remotely)."""
    coerced = {name: coerce_override(fixing.infos.get(name), value) for name, value in values.items()}
    unique = [n for n in coerced if n in fixing.infos and fixing.infos[n].unique and not _is_template(coerced[n])]
    if unique and len(fixing.rows) > 1 and any(coerced[n] not in (None, "") for n in unique):
        label = fixing.infos[unique[0]].label
        raise ValidationError(
            f"{label} must be unique: one value can't go to {len(fixing.rows)} records. Make it unique."
        )
    wanted = {row.pk: _rendered(fixing, row, coerced) for row in fixing.rows}
    _check(fixing, wanted)
    return wanted


def _is_template(value: Any) -> bool:
    return value_templates.is_template(value) and bool(value_templates.parse(value))


def _rendered(fixing: _Fixing, row: RecordResult, values: dict[str, Any]) -> dict[str, Any]:
    try:
        needs_source = any(_is_template(v) and value_templates.placeholders(v) for v in values.values())
    except value_templates.TemplateError as exc:
        raise ValidationError(str(exc)) from exc
    source = fixing.source(row) if needs_source else {}
    today = timezone.localdate(fixing.job.created)
    return value_templates.render_all(values, source=source, today=today, job=fixing.job.pk)


def _check(fixing: _Fixing, wanted: dict[int, dict[str, Any]]) -> None:
    """Each distinct set of values checked once: a value for 500 rows costs one remote check."""
    fields = list(fixing.infos.values())
    seen: set[str] = set()
    for values in wanted.values():
        key = json.dumps(values, sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        errors = override_errors(fields=fields, overrides=values)
        errors = errors or remote_errors(
            connector=fixing.conn, object_name=fixing.rows[0].object_name, infos=fixing.infos, overrides=values
        )
        if errors:
            raise ValidationError(list(errors.values()))


def _unique_values(fixing: _Fixing, name: str) -> dict[int, dict[str, Any]]:
    """Each row's value of `name` numbered " (2)", " (3)" … to the first that no record holds and
    no other fixed row takes."""
    info = fixing.infos.get(name)
    if info is None or not info.editable or info.system_managed_name:
        raise ValidationError(f"{info.label if info else name} can't be set, so it can't be made unique.")
    taken: set[str] = set()
    wanted = {}
    for row in fixing.rows:
        base = fixing.before(row, name)
        if not isinstance(base, str) or not base:
            raise ValidationError(f"{info.label} has no text to number on record {row.source_name or row.source_id}.")
        value = _first_free(fixing, name, str(base), info.max_length, taken)
        taken.add(value)
        wanted[row.pk] = {name: value}
    return wanted


def _first_free(fixing: _Fixing, name: str, base: str, max_length: int | None, taken: set[str]) -> str:
    object_name = fixing.rows[0].object_name
    for n in range(2, MAX_TRIES + 2):
        value = numbered(base, n, max_length)
        if value not in taken and not fixing.conn.find(object_name, {name: value}):
            return value
    raise ValidationError(f"“{base}” is taken up to ({MAX_TRIES + 1}): choose a value instead.")


def _save(
    job: CopyJob,
    wanted: dict[int, dict[str, Any]],
    befores: dict[int, dict[str, Any]],
    labels: dict[str, str],
    user: AnyUser,
    *,
    how: str,
) -> list[RowFix]:
    """In one transaction, the rule and the rows' status checked again (nothing resumed meanwhile)."""
    actor = user if user.is_authenticated else None
    with transaction.atomic():
        job = CopyJob.objects.select_for_update().get(pk=job.pk)
        _allowed(job, user)
        rows = list(job.results.defer("source_snapshot").filter(pk__in=wanted, status__in=FIXABLE))
        if len(rows) != len(wanted):
            raise ValidationError("Some of these records are no longer failed: the job was resumed meanwhile.")
        made = []
        for row in rows:
            for name, after in wanted[row.pk].items():
                before = befores[row.pk][name]
                label = labels.get(name, name)
                made.append(RowFix(row=row, job=job, user=actor, field=name, label=label, before=before, after=after))
            row.fixes = {**(row.fixes or {}), **wanted[row.pk]}
        RecordResult.objects.bulk_update(rows, ["fixes"])
        RowFix.objects.bulk_create(made)
        fields = sorted({f.field for f in made})
        audit_log(
            actor=user, action="job.fix", profile=job.profile, job=job, how=how, fields=fields, rows=sorted(wanted)
        )
    return made
