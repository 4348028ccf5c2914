"""What a copy copies and sets off, beside the top record's overrides: one value, stored on the job.

`CopyOptions` is plain data (JSON on CopyJob.options), built by the CLI, the wizard and tests, read by
the preview and the engine. Every field's default is today's behaviour, so a job without options
(or made before they existed) runs as before.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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
            **{k: bool(data.get(k)) for k in ("skip_cadences", "run_workflows", "migration_mode", "no_triggers", "engine")},
        )

    def fields_for(self, object_name: str) -> dict[str, Any]:
        return self.fields.get(object_name, {})

    def changes_below(self, top_object: str) -> bool:
        """Anything that changes the records below the top (what Vault's own deep copy can't do)."""
        named = set(self.fields) | set(self.lineage) | set(self.unique)
        return bool(self.exclude or named - {top_object})


def lineage_text(source_id: str, job_number: int | str) -> str:
    return f"Copied from {source_id} by Record Copier job {job_number}"
