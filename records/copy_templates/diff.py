"""Two versions of a template compared: what changed, one line in words per choice."""

from __future__ import annotations

from typing import Any

from records.models import ConnectionProfile, CopyTemplateVersion

# The words of a definition's keys (definition.py) and of CopyOptions' (copying/options.py).
WORDS = {
    "profile": "Source profile",
    "target": "Copied into",
    "object_name": "Object",
    "mode": "Mode",
    "source_ids": "Saved records",
    "overrides": "Value of the top record's",
    "row_overrides": "Value for record",
    "exclude": "Left out",
    "fields": "Value on",
    "unique": "Made unique",
    "lineage": "Lineage stamp on",
    "skip_cadences": "Skip cadences",
    "run_workflows": "Run workflows",
    "migration_mode": "Migration mode",
    "no_triggers": "No triggers",
    "engine": "Built level by level",
    "files": "Attachments copied",
    "match": "Match key of",
    "unmatched": "Unmatched references of",
    "existing": "Records already in the target",
    "user_map": "User mapped",
    "source_filter": "Filter",
    "source_limit": "Filter's limit",
}


_UNSET = object()  # a choice one version makes and the other doesn't


def version_diff(old: CopyTemplateVersion, new: CopyTemplateVersion) -> list[str]:
    """What `new` chooses differently from `old`: "Mode: clone → deep_copy", "Value on Contacts
    Last_Name: '{Last_Name}' → (none)". Empty when they define the same copy."""
    before, after = _flat(_readable(old.definition)), _flat(_readable(new.definition))
    lines = []
    for path in sorted({*before, *after}, key=_order):
        old_value, new_value = before.get(path, _UNSET), after.get(path, _UNSET)
        if old_value != new_value:
            lines.append(f"{_words(path)}: {_shown(old_value)} → {_shown(new_value)}")
    return lines


def _readable(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with profiles by name and the options beside the other choices."""
    data = {k: v for k, v in definition.items() if k != "options"}
    for key in ("profile", "target"):
        if data.get(key):
            profile = ConnectionProfile.objects.filter(code=data[key]).only("name").first()
            data[key] = profile.name if profile else f"(a deleted profile {data[key]})"
    return {**data, **(definition.get("options") or {})}


def _flat(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """{path: leaf}; lists are leaves (their order is the choice's), empty dicts nothing."""
    flat: dict[tuple[str, ...], Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flat(value, (*prefix, str(key))))
        elif value is not None or prefix:  # None at the top is unset (a limit); below, it clears a field
            flat[(*prefix, str(key))] = value
    return flat


def _order(path: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
    keys = list(WORDS)
    return (keys.index(path[0]) if path[0] in keys else len(keys), path)


def _words(path: tuple[str, ...]) -> str:
    return " ".join([WORDS.get(path[0], path[0]), *path[1:]])


def _shown(value: Any) -> str:
    if value is None:
        return "(cleared)"  # a value of None clears the field (CopyRequest.overrides)
    if value is _UNSET or value == "" or value == [] or value is False:
        return "(none)"
    if value is True:
        return "yes"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return repr(value) if isinstance(value, str) else str(value)
