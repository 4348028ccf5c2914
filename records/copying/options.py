"""What a copy copies and sets off, beside the top record's overrides: one value, stored on the job.

`CopyOptions` is plain data (JSON on CopyJob.options), built by the CLI, the wizard and tests, read by
the preview and the engine. Every field's default is today's behaviour, so a job without options
(or made before they existed) runs as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
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

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["exclude"] = list(self.exclude)
        data["unique"] = {k: list(v) for k, v in self.unique.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CopyOptions:
        data = data or {}
        return cls(
            exclude=tuple(data.get("exclude") or ()),
            fields={k: dict(v) for k, v in (data.get("fields") or {}).items()},
            unique={k: tuple(v) for k, v in (data.get("unique") or {}).items()},
            lineage=dict(data.get("lineage") or {}),
            **{
                k: bool(data.get(k))
                for k in ("skip_cadences", "run_workflows", "migration_mode", "no_triggers", "engine")
            },
        )

    def fields_for(self, object_name: str) -> dict[str, Any]:
        return self.fields.get(object_name, {})

    def engine_builds(self, *, native: bool, top_object: str) -> bool:
        """A system that copies hierarchies itself (Vault) has the engine build this one instead:
        asked for (--engine), or choices below the top that the system's own deep copy can't make."""
        # Migration mode is a header of Create Object Records, which Vault's deep copy doesn't take.
        return native and (self.engine or self.migration_mode or self.no_triggers or self.changes_below(top_object))

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
    options = CopyOptions(
        exclude=tuple(e.strip() for e in exclude),
        fields=per_object,
        unique={k: tuple(v) for k, v in uniques.items()},
        lineage=stamps,
        **flags,
    )
    return top, options


def _split(target: str) -> tuple[str, str]:
    # Field names hold no ':' on either system, so "OBJECT:FIELD" is unambiguous.
    obj, sep, name = target.strip().partition(":")
    return (obj.strip(), name.strip()) if sep else ("", obj.strip())
