"""What every copy strategy of one run shares: the job, its connector, the lease (`fence`), the
options, and the helpers built on them (heartbeat, state, describe, rows, a record's values)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from records.connectors.base import Automation, Connector, FieldInfo
from records.copying import choices, planned_fields, tally, value_templates
from records.copying.level_reads import overlapped
from records.copying.lifecycle import Cancelled, Fence, LeaseLost, renew
from records.copying.mask_unique import held_of
from records.copying.options import CopyOptions
from records.copying.tree import copy_key_field, unique_fields
from records.masking import keys as masking_keys
from records.masking import rules as masking_rules
from records.masking.apply import MaskSet
from records.models import CopyJob, RecordResult

# How often a run's heartbeat renews the lease: a write and a commit, and a run beats after every
# batch (~20 a Big Account job). Far inside the lease (a third of it is the Heartbeat thread's
# period); every row write is fenced anyway (results.py), so a worker that lost its lease stops at
# its next write, however recently it renewed. The progress is still written at every beat (from
# the run's tally, tally.py, not recounted).
BEAT_SECONDS = 1.0


@dataclass
class RunContext:
    """One run of one job by the worker that holds its lease (`fence`)."""

    job: CopyJob
    connector: Connector  # where the copies are written (a copy into another profile: the target)
    fence: Fence
    # Where the records are read, when not `connector` (a copy into another profile: the source).
    source_connector: Connector | None = None
    options: CopyOptions = field(init=False)
    masks: MaskSet = field(init=False, repr=False)
    _described: dict[str, list[FieldInfo]] = field(default_factory=dict, init=False, repr=False)
    # Per object (and set of fields given values): the same answer for every record of a run.
    _keys: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _planned: dict[str, list[FieldInfo] | None] = field(default_factory=dict, init=False, repr=False)
    _cleared: dict[tuple[str, frozenset[str]], list[FieldInfo]] = field(default_factory=dict, init=False, repr=False)
    _renewed_at: float | None = field(default=None, init=False, repr=False)  # time.monotonic()
    _today: date | None = field(default=None, init=False, repr=False)  # the job's creation day, worked out once
    _tally: tally.Tally | None = field(default=None, init=False, repr=False)
    _counts: tuple[int, int, int] | None = field(default=None, init=False, repr=False)  # as last written

    def __post_init__(self) -> None:
        self.options = CopyOptions.from_dict(self.job.options)
        write = self.job.write_profile
        # The write profile's policy as it is now wins over the job's rules: a policy added after
        # the preview still masks, and no stored option can unmask a field it names.
        policy = masking_keys.policy_of(write)
        self.masks = MaskSet(
            rules=masking_rules.merge(self.options.mask, policy),
            key=lambda: masking_keys.masking_key(write),
            describe=self.describe,
            suggested=self.options.mask_suggested,
            key_field=self.key_field,
            held=held_of((self.job.plan or {}).get("masking") or {}),
        )

    @property
    def source(self) -> Connector:
        return self.source_connector or self.connector

    @property
    def cross(self) -> bool:
        """A copy into another profile: read in `source`, written through `connector`."""
        return self.job.target_profile_id is not None

    @classmethod
    def for_job(cls, job: CopyJob, connector: Connector, fence: Fence, source: Connector | None = None) -> RunContext:
        """The context of a run, its connector set to start (or not) what the job's options say."""
        context = cls(job, connector, fence, source)
        options = context.options
        connector.automation = Automation(
            skip_cadences=options.skip_cadences,
            run_workflows=options.run_workflows,
            migration_mode=options.migration_mode,
            no_triggers=options.no_triggers,
        )
        return context

    def heartbeat(self) -> None:
        """Renew the lease (or stop if it was taken over) at most every BEAT_SECONDS; write the
        progress from the run's tally (tally.py: no recount); stop at a cancel request at every call."""
        now = time.monotonic()
        if self._renewed_at is None or now - self._renewed_at >= BEAT_SECONDS:
            if not renew(self.fence):
                raise LeaseLost
            self._renewed_at = now
        self._write_counts()
        self.stop_if_cancelled()

    def stop_if_cancelled(self) -> None:
        """Cancelled when a cancel was asked (one query): checked before each batch that starts
        between beats, so a cancel stops the next call as a beat would."""
        if CopyJob.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise Cancelled

    def _write_counts(self) -> None:
        """The job's progress counters, from the run's tally (tally.py: its rows' statuses read at
        the first beat, then kept as they are written); written only when they changed."""
        current = tally.current_tally.get()
        if current is None or current is not self._tally:
            self._tally = tally.Tally.of(self.job)
            tally.current_tally.set(self._tally)
        counts = self._tally.counts()
        if counts != self._counts:
            self._counts = counts
            job = self.job
            job.planned_count, job.succeeded_count, job.failed_count = counts
            CopyJob.objects.filter(pk=job.pk).update(
                planned_count=counts[0], succeeded_count=counts[1], failed_count=counts[2]
            )

    def save_state(self) -> None:
        # What the writer's answers said of the API budget: the job page shows it (no remote call there).
        self.job.state["budget"] = self.connector.budget()
        updated = CopyJob.objects.filter(pk=self.job.pk, lease_generation=self.fence.generation).update(
            state=self.job.state, remote_job_id=self.job.remote_job_id
        )
        if updated != 1:
            raise LeaseLost

    def describe(self, object_name: str) -> list[FieldInfo]:
        if object_name not in self._described:
            self._described[object_name] = self._describer()(object_name)
        return self._described[object_name]

    def describe_all(self, object_names: Iterable[str]) -> None:
        """Describe the objects not described yet, the calls overlapping (they are independent)."""
        missing = [o for o in dict.fromkeys(object_names) if o not in self._described]
        for name, fields in zip(missing, overlapped(self.connector, self._describer(), missing), strict=True):
            self._described[name] = fields

    def _describer(self) -> Callable[[str], list[FieldInfo]]:
        """A run reads picklists' values only to mask (a stand-in is one of the values) or to map
        values into another profile; else the fields as listed (Vault: no call per picklist
        between the job's start and its first write)."""
        if self.cross or self.masks.any_rules():
            return self.connector.describe
        return self.connector.describe_listed

    def key_field(self, object_name: str) -> str:
        """The copy-key field the job's payloads of the object carry and its lost answers are found
        by: the one the job first used (`_first_key`), only while the object still has that same
        field. A field added, lost or changed since (a run that waited out an outage, a resume, a
        clone's plan read earlier) is not used at all, and the copies are found by their values
        (reconcile.py), never by a key the first calls did not carry."""
        if object_name not in self._keys:
            now = copy_key_field(self.describe(object_name), self.connector.copy_key_fields)
            self._keys[object_name] = now if self._first_key(object_name, now) == now else ""
        return self._keys[object_name]

    def _first_key(self, object_name: str, now: str) -> str:
        """The key field the job first used for the object: the one its plan kept (planned_fields.py),
        else the one kept in its state, else `now`, kept there before anything of the object is sent."""
        planned = self.planned_fields(object_name)
        if planned is not None:
            return copy_key_field(planned, self.connector.copy_key_fields)
        first = self.job.state.setdefault("keys", {})
        if object_name not in first:
            first[object_name] = now
            self.save_state()  # committed before any payload carrying it (or not) is sent
        return str(first[object_name])

    def key_before_described(self, object_name: str) -> None:
        """A clone's first calls, sent while the run's describe is out, carry the key field its
        plan kept; `key_described` then checks it against the object as it is now."""
        self._keys[object_name] = copy_key_field(self.planned_fields(object_name) or [], self.connector.copy_key_fields)

    def key_described(self, object_name: str) -> None:
        self._keys.pop(object_name, None)

    def planned_fields(self, object_name: str) -> list[FieldInfo] | None:
        """The fields the job's plan kept of the object for its run (planned_fields.py), or None."""
        if object_name not in self._planned:
            self._planned[object_name] = planned_fields.restored(self.job.plan, object_name)
        return self._planned[object_name]

    def unique_to_clear(self, object_name: str, given: Iterable[str]) -> list[FieldInfo]:
        """The unique fields a copy given values for `given` gets blank (tree.unique_fields): it
        depends only on which fields are given, so it is worked out once per such set. Those the
        plan showed, where it kept the object's fields: every payload of the job clears the same."""
        key = (object_name, frozenset(given))
        if key not in self._cleared:
            planned = self.planned_fields(object_name)
            fields = planned if planned is not None else self.describe(object_name)
            self._cleared[key] = unique_fields(fields, dict.fromkeys(key[1]))[0]
        return self._cleared[key]

    def rows(self, **filters: Any) -> list[RecordResult]:
        return list(self.job.results.defer("source_snapshot").filter(**filters).order_by("depth", "id"))

    def tree_results(self, root_id: str) -> QuerySet[RecordResult]:
        """The rows of one tree. A job of one tree keeps no list of its rows' ids
        (job_create._add_results): all its rows."""
        tree = self.job.state.get("trees", {}).get(root_id)
        qs = self.job.results.all()
        return qs if tree is None else qs.filter(pk__in=tree)

    def tree_rows(self, root_id: str, *, snapshots: bool = False) -> list[RecordResult]:
        qs = self.tree_results(root_id)
        return list((qs if snapshots else qs.defer("source_snapshot")).order_by("depth", "id"))

    def record_values(
        self, object_name: str, source_id: str, values: dict[str, Any], source: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The values a copy is given, templates rendered. Today is the job's creation day, so a
        resume on another day sends what the first attempt sent (the reconcile compares them)."""
        merged = {**self.options.fields_for(object_name), **values}
        masking = self.masks.any_for(object_name)
        if not merged and not masking and not self.options.lineage.get(object_name):
            return {}  # nothing to set, render, mask or stamp: most records of a large tree
        if source is None:
            source = self._source_fields(object_name, source_id, merged, masking=masking)
        # Masked before anything else reads the source: templates render from the stand-ins too.
        standins = self.masks.standins(object_name, source) if masking else {}
        out = choices.record_values(
            values=values,
            options=self.options,
            object_name=object_name,
            source_id=source_id,
            source={**source, **standins},
            today=self._creation_day(),
            job=self.job.pk,
        )
        out.update(standins)  # a masked field gets its stand-in, whatever else was set on it
        return out

    def _creation_day(self) -> date:
        if self._today is None:
            self._today = timezone.localdate(self.job.created)  # ~20 µs: once, not per record
        return self._today

    def _source_fields(
        self, object_name: str, source_id: str, values: dict[str, Any], *, masking: bool = False
    ) -> dict[str, Any]:
        # A clone's source is read only when a template needs one of its values, or a field is masked.
        if masking or any(value_templates.is_template(v) and value_templates.placeholders(v) for v in values.values()):
            return self.source.get(object_name, source_id).fields
        return {}

    def clone_sources(self, object_name: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The source values a clone's masked fields need, read in batches ({} when none is masked).
        Also what its templates and "make unique" read, as `record_values` is given only these."""
        masked = self.masks.rules_for(object_name)
        if not masked or not ids:
            return {}
        names = set(masked) | set(self.options.unique.get(object_name, ()))
        job = self.job
        for values in [job.overrides or {}, self.options.fields_for(object_name), *(job.row_overrides or {}).values()]:
            for v in values.values():
                if value_templates.is_template(v):
                    names |= value_templates.placeholders(v)
        return self.source.field_values(object_name, ids, sorted(names))

    def keep_unique(
        self, object_name: str, source_id: str, values: dict[str, Any], source: dict[str, Any] | None
    ) -> None:
        """A field to "make unique" keeps the source's value (numbered when it clashes), sent
        explicitly so a numbered retry has a value to number; not cleared as other unique fields are."""
        missing = [n for n in self.options.unique.get(object_name, ()) if n not in values]
        if not missing:
            return
        if source is None:
            source = self.source.get(object_name, source_id).fields
        values.update((n, source[n]) for n in missing if isinstance(source.get(n), str) and source[n])

    def overrides_for(
        self, source_id: str, source: dict[str, Any] | None = None, fixes: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The top record's values: the object's set/clear, the job's and the row's overrides
        (templates rendered, the lineage stamp), the row's fixes last (a person's correction wins;
        already rendered, copying/row_fixes.py), and None (cleared) for each unique, not required
        field the user left alone (a copy keeping it would be a duplicate)."""
        values = dict(self.job.overrides or {})
        values.update((self.job.row_overrides or {}).get(source_id, {}))
        values = self.record_values(self.job.object_name, source_id, values, source)
        self.keep_unique(self.job.object_name, source_id, values, source)
        values.update(fixes or {})
        if self.cross:
            return values  # a copy into another profile keeps unique values (a clash there is the re-run's)
        for info in self.unique_to_clear(self.job.object_name, values):
            values[info.name] = None
        return values

    def top_overrides(self, row: RecordResult, source: dict[str, Any] | None = None) -> dict[str, Any]:
        """What a top record's copy is given: its overrides plus the copy key (how a lost answer
        is found again), for clones and both deep copies alike. The values are kept on the row."""
        values = self.overrides_for(row.source_id, source, row.fixes)
        row.values = self.masks.labelled(row.object_name, dict(values)) or None
        key_field = self.key_field(row.object_name)
        if key_field:
            values[key_field] = row.idempotency_key
        return values
