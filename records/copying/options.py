"""What a copy copies and sets off, beside the top record's overrides: one value, stored on the job.

`CopyOptions` is plain data (JSON on CopyJob.options), built by the CLI, the wizard and tests, read by
the preview and the engine. Every field's default is today's behaviour, so a job without options
(or made before they existed) runs as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from django.core.exceptions import ValidationError

from records.connectors.base import FieldInfo
from records.copying.validation import coerce_override


@dataclass(frozen=True)
class CopyOptions:
    # Objects reached through a relationship whose records (and everything below them) are left out.
    exclude: tuple[str, ...] = ()
    # {object: {field: value}}; a value of None clears the field on every copied record of the object.
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    # {object: (field, ...)}: on a duplicate refusal of that field, retry with " (2)", " (3)" ...
    unique: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # {object: field}: a text field that gets "Copied from <id> by Record Copier job <n>".
    lineage: dict[str, str] = field(default_factory=dict)
    skip_cadences: bool = False  # Zoho clone: skip_feature_execution [{"name": "cadences"}]
    run_workflows: bool = False  # Zoho insert: let workflows, approvals, blueprints fire
    migration_mode: bool = False  # Vault: X-VaultAPI-MigrationMode
    no_triggers: bool = False  # Vault: X-VaultAPI-NoTriggers
    engine: bool = False  # Vault deep copy built by the engine level by level
    # A copy into another profile (CopyRequest.target). {object: field}: the match key of references
    # outside the copied tree, instead of the object's default (copying/matching.py).
    match: dict[str, str] = field(default_factory=dict)
    # {object or "*": "refuse" | "blank" | "fail"}: what a reference with no match in the target does.
    unmatched: dict[str, str] = field(default_factory=dict)
    # Records already in the target: "create" | "skip" | "update"; "" = the mode's default.
    existing: str = ""
    # {source e-mail: target e-mail | "@api" (the target profile's API user) | "@refuse"}.
    user_map: dict[str, str] = field(default_factory=dict)
    # Copy by query: the source records matching this filter (Vault VQL WHERE, Zoho criteria), newest first.
    source_filter: str = ""
    source_limit: int | None = None
    # Masking (records/masking/): {object: {field: rule}}; the write profile's policy is merged in
    # by CopyRequest. `mask_suggested`: every field that looks personal takes its suggested rule.
    mask: dict[str, dict[str, str]] = field(default_factory=dict)
    mask_suggested: bool = False
    # Copy each copied record's attachments and file fields (copying/file_copy.py); off: none are.
    files: bool = False

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["exclude"] = list(self.exclude)
        data["unique"] = {k: list(v) for k, v in self.unique.items()}
        return data

    # Across profiles: what an unmatched reference does when the user named nothing for its object.
    UNMATCHED_CHOICES = ("refuse", "blank", "fail")
    EXISTING_CHOICES = ("create", "skip", "update")

    # The choices that only a copy into another profile reads, as the CLI names them.
    CROSS_FLAGS = {"match": "--match", "unmatched": "--unmatched", "existing": "--existing", "user_map": "--map-user"}

    def cross_choices(self) -> list[str]:
        """The flags of the choices set here that only a copy into another profile reads."""
        return [flag for name, flag in self.CROSS_FLAGS.items() if getattr(self, name)]

    def unmatched_for(self, object_name: str) -> str:
        return self.unmatched.get(object_name) or self.unmatched.get("*") or "refuse"

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CopyOptions:
        data = data or {}
        return cls(
            exclude=tuple(data.get("exclude") or ()),
            fields={k: dict(v) for k, v in (data.get("fields") or {}).items()},
            unique={k: tuple(v) for k, v in (data.get("unique") or {}).items()},
            lineage=dict(data.get("lineage") or {}),
            match=dict(data.get("match") or {}),
            unmatched=dict(data.get("unmatched") or {}),
            existing=str(data.get("existing") or ""),
            user_map=dict(data.get("user_map") or {}),
            source_filter=str(data.get("source_filter") or ""),
            source_limit=data.get("source_limit"),
            mask={k: dict(v) for k, v in (data.get("mask") or {}).items()},
            **{
                k: bool(data.get(k))
                for k in (
                    "skip_cadences",
                    "run_workflows",
                    "migration_mode",
                    "no_triggers",
                    "engine",
                    "mask_suggested",
                    "files",
                )
            },
        )

    def fields_for(self, object_name: str) -> dict[str, Any]:
        return self.fields.get(object_name, {})

    def engine_builds(self, *, native: bool, top_object: str) -> bool:
        """A system that copies hierarchies itself (Vault) has the engine build this one instead:
        asked for (--engine), or choices below the top that the system's own deep copy can't make."""
        # Migration mode is a header of Create Object Records, which Vault's deep copy doesn't take.
        # Masking: Vault's deep copy job copies the children server-side, where no stand-in can be
        # put in; the engine's way sends every value itself (a refusal would leave no way to mask).
        return native and (
            self.engine or self.migration_mode or self.no_triggers or self.masks() or self.changes_below(top_object)
        )

    def masks(self) -> bool:
        """Whether any field may be masked (a rule other than keep, or the suggestions)."""
        return self.mask_suggested or any(r != "keep" for rules in self.mask.values() for r in rules.values())

    def per_object(self) -> bool:
        """Whether the copy sets, stamps, numbers or masks fields per object."""
        return bool(self.fields or self.lineage or self.unique or self.masks())

    def changes_below(self, top_object: str) -> bool:
        """Anything that changes the records below the top (what Vault's own deep copy can't do)."""
        named = set(self.fields) | set(self.lineage) | set(self.unique)
        return bool(self.exclude or named - {top_object})


def lineage_text(source_id: str, job_number: int | str) -> str:
    return f"Copied from {source_id} by Record Copier job {job_number}"


def parse_cli(
    *,
    top_object: str,
    describe: Callable[[str], list[FieldInfo]],
    set_values: list[str],
    clear: list[str],
    exclude: Sequence[str] = (),
    unique: Sequence[str] = (),
    lineage: Sequence[str] = (),
    lineage_defaults: dict[str, str] | None = None,
    web_words: bool = False,
    **flags: bool,
) -> tuple[dict[str, Any], CopyOptions]:
    """`--set [OBJECT:]FIELD=VALUE`, `--clear [OBJECT:]FIELD`, `--unique [OBJECT:]FIELD`,
    `--lineage OBJECT[:FIELD]` into (the top record's overrides, CopyOptions). Without OBJECT a set or
    clear is the top record's; `--lineage OBJECT` takes the profile's default field for it.
    `web_words`: errors speak of the preview's choices, not the command's syntax.
    `describe(object)` gives the fields (numbers and booleans are typed as the field says)."""
    top: dict[str, Any] = {}
    per_object: dict[str, dict[str, Any]] = {}

    def put(obj: str, name: str, value: Any) -> None:
        infos = {f.name: f for f in describe(obj or top_object)}
        typed = None if value is None else coerce_override(infos.get(name), value)
        (per_object.setdefault(obj, {}) if obj else top)[name] = typed

    for item in set_values:
        target, sep, value = item.partition("=")
        if not sep or not target.strip():
            raise ValidationError(f"--set expects [OBJECT:]FIELD=VALUE, got {item!r}.")
        put(*_split(target), value)
    for item in clear:
        put(*_split(item), None)
    uniques: dict[str, list[str]] = {}
    for item in unique:
        obj, name = _split(item)
        uniques.setdefault(obj or top_object, []).append(name)
    stamps: dict[str, str] = {}
    for item in lineage:
        obj, _, name = item.partition(":")
        name = name.strip() or (lineage_defaults or {}).get(obj.strip(), "")
        if not name:
            raise ValidationError(
                f"Lineage stamp: choose the text field to stamp on {obj.strip()}; the profile has no default for it."
                if web_words
                else f"--lineage {item}: name the field (OBJECT:FIELD); the profile has no default for it."
            )
        stamps[obj.strip()] = name
    toggles: dict[str, Any] = dict(flags)  # the boolean options (skip_cadences, engine, ...)
    options = CopyOptions(
        exclude=tuple(e.strip() for e in exclude),
        fields=per_object,
        unique={k: tuple(v) for k, v in uniques.items()},
        lineage=stamps,
        **toggles,
    )
    return top, options


def parse_cross_cli(
    options: CopyOptions,
    *,
    match: Sequence[str] = (),
    unmatched: Sequence[str] = (),
    existing: str = "",
    map_user: Sequence[str] = (),
    where: str = "",
    limit: int | None = None,
) -> CopyOptions:
    """`options` with a copy into another profile's and a copy by query's choices: `--match
    OBJECT:FIELD`, `--unmatched [OBJECT:]CHOICE`, `--existing`, `--map-user A=B`, `--where`, `--limit`.
    Only their syntax is checked here: the source and the target check the rest."""
    return replace(
        options,
        **_cross_options(match=match, unmatched=unmatched, existing=existing, map_user=map_user),
        source_filter=where.strip(),
        source_limit=_limit(limit),
    )


def _cross_options(
    *, match: Sequence[str], unmatched: Sequence[str], existing: str, map_user: Sequence[str]
) -> dict[str, Any]:
    keys: dict[str, str] = {}
    for item in match:
        obj, name = _split(item)
        if not obj or not name:
            raise ValidationError(f"--match expects OBJECT:FIELD, got {item!r}.")
        keys[obj] = name
    policies: dict[str, str] = {}
    for item in unmatched:
        obj, choice = _split(item)
        if choice not in CopyOptions.UNMATCHED_CHOICES:
            raise ValidationError(f"--unmatched expects [OBJECT:]refuse|blank|fail, got {item!r}.")
        policies[obj or "*"] = choice
    if existing and existing not in CopyOptions.EXISTING_CHOICES:
        raise ValidationError(f"--existing expects create, skip or update, got {existing!r}.")
    users: dict[str, str] = {}
    for item in map_user:
        source, sep, target = item.partition("=")
        if not sep or "@" not in source or "@" not in target:
            raise ValidationError(f"--map-user expects SOURCE_EMAIL=TARGET_EMAIL (or =@api, =@refuse), got {item!r}.")
        users[source.strip().casefold()] = target.strip()
    return {"match": keys, "unmatched": policies, "existing": existing, "user_map": users}


def _limit(limit: int | None) -> int | None:
    if limit is not None and limit < 1:
        raise ValidationError(f"--limit expects a positive number, got {limit}.")
    return limit


def _split(target: str) -> tuple[str, str]:
    # Field names hold no ':' on either system, so "OBJECT:FIELD" is unambiguous.
    obj, sep, name = target.strip().partition(":")
    return (obj.strip(), name.strip()) if sep else ("", obj.strip())
