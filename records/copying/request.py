"""What the user asked to copy, in one value: the page, the `copy` command and the tests build a
CopyRequest once and hand it to the preview (preview.py), the stored plan and its key
(stored_plans.py) and the job (job_create.py)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from records.copying.options import CopyOptions
from records.copying.validation import validate_source_ids
from records.masking import keys as masking_keys
from records.masking import rules as masking_rules
from records.models import ConnectionProfile, CopyJob

if TYPE_CHECKING:
    from records.models import CopyPlan

COPY_MODES = (CopyJob.Mode.CLONE, CopyJob.Mode.DEEP_COPY)


@dataclass(frozen=True)
class CopyRequest:
    """A copy as asked for: which records, how, and with which values.

    Made tidy once, here, so every reader sees the same request: the ids as text without the
    blanks around them (blank ids dropped), the per-record overrides ({source id: {field: value}},
    bulk clone) keyed by id text, no overrides or options as empty ones. Nothing here calls out:
    the checks that need the remote system are the preview's (preview_checks.py)."""

    profile: ConnectionProfile
    object_name: str
    source_ids: tuple[str, ...]
    mode: str
    # {field: value} for every copied top record; a value of None clears the field.
    overrides: dict[str, Any] = field(default_factory=dict)
    row_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What else the copy leaves out, sets and sets off (records/copying/options.py).
    options: CopyOptions = field(default_factory=CopyOptions)
    # A copy into another profile of the same system (None: within `profile`).
    target: ConnectionProfile | None = None

    def __post_init__(self) -> None:
        # Callers pass lists, None for "none", ids typed with spaces or as numbers: one shape from here on.
        ids = tuple(str(s).strip() for s in self.source_ids if str(s).strip())
        object.__setattr__(self, "source_ids", ids)
        object.__setattr__(self, "overrides", dict(self.overrides or {}))
        object.__setattr__(self, "row_overrides", {str(k): v for k, v in (self.row_overrides or {}).items()})
        object.__setattr__(self, "options", self._with_policy(self.options or CopyOptions()))

    @property
    def write_profile(self) -> ConnectionProfile:
        return self.target or self.profile

    def _with_policy(self, options: CopyOptions) -> CopyOptions:
        """The write profile's masking policy merged into the rules (the user's win here, so that
        `checked_ids` can refuse one that would remove the policy's; the run enforces it again)."""
        policy = masking_keys.policy_of(self.write_profile)
        if not policy:
            return options
        return replace(options, mask=masking_rules.merge(policy, options.mask))

    @classmethod
    def of_row(cls, row: CopyPlan | CopyJob, *, profile: ConnectionProfile | None = None) -> CopyRequest:
        """The request a plan (or job) row stores; `profile`: the row's profile as it is now, if given."""
        return cls(
            target=row.target_profile if row.target_profile_id else None,
            profile=profile or row.profile,
            object_name=row.object_name,
            source_ids=tuple(row.source_ids),
            mode=row.mode,
            overrides=row.overrides,
            row_overrides=row.row_overrides,
            options=CopyOptions.from_dict(row.options),
        )

    def checked_ids(self) -> list[str]:
        """The source ids, once the checks that need no remote call hold (the mode, the ids): the
        preview and stored_plans.plan_request (before a plan row is stored) both apply them."""
        self.check_choices()
        ids = list(self.source_ids)
        if not ids and not self.options.source_filter:  # a copy by query finds its ids (source_query.py)
            raise ValidationError("Give at least one record id to copy.")
        if len(set(ids)) != len(ids):
            raise ValidationError("A record id is listed twice.")
        validate_source_ids(ids)  # before any request: a NUL id must reach neither the remote nor the database
        return ids

    def check_choices(self) -> None:
        """The mode and the target, checked without the ids (a template's edit page has none)."""
        if self.mode not in COPY_MODES:
            raise ValidationError(f"Unknown copy mode {self.mode!r}; use clone or deep_copy.")
        self._check_target()
        write = self.write_profile
        masking_keys.enforce(rules=self.options.mask, policy=masking_keys.policy_of(write), profile_name=write.name)

    def _check_target(self) -> None:
        target = self.target
        if target is None:
            self._check_no_cross_choices()
            return
        if target.pk == self.profile.pk:
            raise ValidationError(f"{target.name} is the profile the records are copied from: leave out --to.")
        if target.system != self.profile.system:
            raise ValidationError(
                f"{target.name} is a {target.get_system_display()} profile: records of "
                f"{self.profile.get_system_display()} can only be copied into a profile of the same system."
            )

    def _check_no_cross_choices(self) -> None:
        """Within one profile there is no target to match, map users in or find records in:
        such a choice is refused, never silently ignored."""
        flags = self.options.cross_choices()
        if flags:
            one = len(flags) == 1
            raise ValidationError(
                f"{', '.join(flags)}: only a copy into another profile takes {'this choice' if one else 'these choices'}; "
                f"name the target with --to, or leave {'it' if one else 'them'} out."
            )

    def check_access(self, user: Any) -> None:
        """A copy between profiles: refuse a user who may not use both the source and the target.
        (Within one profile, the views and commands have checked the profile already.)"""
        if self.target is None:
            return
        for profile in (self.profile, self.target):
            if not ConnectionProfile.objects.for_user(user).filter(pk=profile.pk).exists():
                raise ValidationError(f"You may not use the profile {profile.name}.")

    def named_fields(self) -> set[str]:
        """The top object's fields the copy gives a value: by the overrides or by a record's own."""
        return {*self.overrides, *(name for values in self.row_overrides.values() for name in values)}

    def key_inputs(self) -> dict[str, Any]:
        """Everything asked for but the profile, as JSON-ready data: what a plan's key hashes
        (with the profile's version, stored_plans.plan_key)."""
        target = {"target": str(self.target.code)} if self.target else {}  # in-system keys stay as they were
        return {
            **target,
            "object_name": self.object_name,
            "source_ids": list(self.source_ids),
            "mode": self.mode,
            "overrides": self.overrides,
            "row_overrides": self.row_overrides,
            "options": self.options.as_dict(),
        }

    def row_fields(self) -> dict[str, Any]:
        """The fields a CopyJob or CopyPlan row keeps the request in."""
        inputs = self.key_inputs()
        inputs.pop("target", None)
        return {"profile": self.profile, "target_profile": self.target, **inputs}
