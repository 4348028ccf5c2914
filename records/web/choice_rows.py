"""The preview's per-object field widgets: rows of [object] [field] [value] [Clear]
[Make unique] and lineage rows of [object] [text field], read from a POST, turned into the CLI's
items (`OBJECT:FIELD=VALUE`, `OBJECT:FIELD`, `OBJECT[:FIELD]`) so that options.parse_cli, the one
rule, parses them; and rendered back from the draft so a reload keeps what was chosen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

from django.core.exceptions import ValidationError
from django.http import QueryDict

from records.connectors.base import FieldInfo
from records.copying.choices import TEXT_TYPES
from records.copying.options import CopyOptions

MAX_ROWS = 50  # per kind; a page offers a few, a crafted POST can't make the server loop long


class ChangeRow(TypedDict):
    """[object] [field] [value] [Clear] [Make unique]"""

    object: str
    field: str
    value: str
    clear: bool
    unique: bool


class LineageRow(TypedDict):
    """[object] [text field]: the field that notes where a copy came from ("" for the default)."""

    object: str
    field: str


class ChoiceRows(TypedDict):
    changes: list[ChangeRow]
    lineage: list[LineageRow]


@dataclass
class Items:
    """What the rows say, as the CLI's repeatable options take it."""

    set_values: list[str] = field(default_factory=list)
    clear: list[str] = field(default_factory=list)
    unique: list[str] = field(default_factory=list)
    lineage: list[str] = field(default_factory=list)


def rows_from_post(post: QueryDict) -> ChoiceRows:
    """{"changes": [{object, field, value, clear, unique}], "lineage": [{object, field}]} of the
    rows that name something (a blank row is ignored), in the page's order."""
    rows = ChoiceRows(changes=[], lineage=[])
    for n in range(MAX_ROWS):
        name = post.get(f"ch-{n}-field", "").strip()
        if name:
            rows["changes"].append(
                ChangeRow(
                    object=post.get(f"ch-{n}-object", "").strip(),
                    field=name,
                    value=post.get(f"ch-{n}-value", "")[:20_000],
                    clear=f"ch-{n}-clear" in post,
                    unique=f"ch-{n}-unique" in post,
                )
            )
        obj = post.get(f"lin-{n}-object", "").strip()
        if obj:
            rows["lineage"].append(LineageRow(object=obj, field=post.get(f"lin-{n}-field", "").strip()))
    return rows


def items(rows: ChoiceRows, *, top_object: str) -> Items:
    """The rows as CLI items. The top object's rows are the top record's (`FIELD=VALUE`, as a plain
    --set is), the others every copy of their object's (`OBJECT:FIELD=VALUE`)."""
    out = Items()
    for row in rows["changes"]:
        target = row["field"] if row["object"] in ("", top_object) else f"{row['object']}:{row['field']}"
        if row["clear"]:
            out.clear.append(target)
        elif row["value"] != "":
            out.set_values.append(f"{target}={row['value']}")
        elif not row["unique"]:
            raise ValidationError(f"{target}: give a value, or tick Clear to empty it on the copies.")
        if row["unique"]:
            out.unique.append(target)
    for line in rows["lineage"]:
        out.lineage.append(f"{line['object']}:{line['field']}" if line["field"] else line["object"])
    return out


def field_options(fields: list[FieldInfo], *, text_only: bool = False) -> list[dict[str, Any]]:
    """The fields a row can set (editable ones; a lineage row: editable text), labels first."""
    return sorted(
        (
            {"name": f.name, "label": f.label or f.name, "text": f.type in TEXT_TYPES, "unique": f.unique}
            for f in fields
            if f.editable and not f.system_managed_name and (not text_only or f.type in TEXT_TYPES)
        ),
        key=lambda f: (str(f["label"]).lower(), f["name"]),
    )


def rows_of(*, top_object: str, top: dict[str, Any], options: CopyOptions) -> ChoiceRows:
    """The rows a saved copy's choices render as (a template's edit page): the reverse of `items`,
    so that sending them back unchanged parses into the same choices."""
    rows = ChoiceRows(changes=[], lineage=[])
    per_object = {top_object: top, **{o: v for o, v in options.fields.items() if o != top_object}}
    for obj, values in per_object.items():
        unique = set(options.unique.get(obj, ()))
        for name, value in values.items():
            rows["changes"].append(_change_row(obj, name, value, unique=name in unique))
        rows["changes"] += [_change_row(obj, n, "", unique=True) for n in sorted(unique - set(values))]
    for obj in sorted(set(options.unique) - set(per_object)):
        rows["changes"] += [_change_row(obj, n, "", unique=True) for n in options.unique[obj]]
    rows["lineage"] = [LineageRow(object=obj, field=name) for obj, name in options.lineage.items()]
    return rows


def _change_row(obj: str, name: str, value: Any, *, unique: bool) -> ChangeRow:
    return ChangeRow(object=obj, field=name, value=_shown(value), clear=value is None, unique=unique)


def _shown(value: Any) -> str:
    """A typed value as typed again (options.parse_cli types it back by the field)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)  # a multi-select picklist
    return str(value)
