"""A bulk clone's CSV file read and checked row by row against the field metadata (nothing is
queued here), and the template file offered to fill in."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django import forms

from records.connectors.base import FieldInfo, FieldType
from records.copying.choices import own_field_message
from records.copying.validation import override_errors, source_id_errors
from records.copying.value_templates import is_template
from records.web.forms import MAX_BULK_ROWS, form_field_for, overridable_fields, to_json_value

if TYPE_CHECKING:
    from _csv import Reader  # what csv.reader returns (the csv module doesn't name it)

ID_COLUMNS = ("id", "source_id")


@dataclass
class BulkRow:
    line: int
    source_id: str
    overrides: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


@dataclass
class BulkParse:
    rows: list[BulkRow]
    errors: list[str]  # file-level

    @property
    def ok(self) -> bool:
        return not self.errors and not any(r.errors for r in self.rows)

    @property
    def row_errors(self) -> list[BulkRow]:
        return [r for r in self.rows if r.errors]


CLEAR_MARKER = "#clear"


def _some(names: list[str], *, quote: bool = True, shown: int = 10) -> str:
    listed = ", ".join(f"'{n}'" if quote else n for n in names[:shown])
    return listed + (f" … and {len(names) - shown} more" if len(names) > shown else "")


def parse_bulk_csv(
    text: str, fields: list[FieldInfo], *, max_rows: int = MAX_BULK_ROWS, copy_key: str = ""
) -> BulkParse:
    """Parse and validate every row against the field metadata; nothing is queued here.

    An empty cell keeps the source value; the cell value `#clear` empties the field on the copy.
    `copy_key`: the object's copy-key field, Record Copier's own: a column of it is refused.
    """
    text = text.removeprefix("\ufeff")
    try:
        # strict: a stray or unclosed quote is an error (a row error below), not a silently merged cell.
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        header = next(reader, None)
    except csv.Error as exc:
        return BulkParse([], [f"The file isn't valid CSV: {exc}."])
    if not header or not any(h.strip() for h in header):
        return BulkParse([], ["The file is empty. The first line must name the columns, e.g. 'id'."])
    names = [h.strip() for h in header]
    errors = _header_errors(names, fields, copy_key)
    if errors:
        return BulkParse([], errors)
    columns = Columns(names, _id_columns(names)[0], {f.name: f for f in overridable_fields(fields)})
    try:
        return _parse_rows(reader, columns, fields, max_rows)
    except csv.Error as exc:
        return BulkParse([], [f"The file isn't valid CSV: {exc}."])


@dataclass(frozen=True)
class Columns:
    """A checked header: its names, where the ids are, and the fields its other columns set."""

    names: list[str]
    id_col: int
    infos: dict[str, FieldInfo]


def _id_columns(names: list[str]) -> list[int]:
    return [i for i, h in enumerate(names) if h.lower() in ID_COLUMNS]


def _header_errors(names: list[str], fields: list[FieldInfo], copy_key: str) -> list[str]:
    """What is wrong with the first line: the id column, repeated names, the copy key, columns
    that are no field or a field a copy can't set. One line per kind, a few names each: a header
    of thousands of columns gets a short answer."""
    errors = []
    if len(_id_columns(names)) != 1:
        errors.append("The first line must have exactly one column named 'id' holding the source record ids.")
    named = Counter(names)
    dupes = sorted(h for h, n in named.items() if n > 1)
    if dupes:
        errors.append(f"Columns named more than once: {_some(dupes, quote=False)}.")
    columns = [h for h in named if h and h.lower() not in ID_COLUMNS]
    if copy_key and copy_key in columns:
        label = next((f.label for f in fields if f.name == copy_key), "") or copy_key
        errors.append(f"Column '{copy_key}': " + own_field_message(label, copy_key))
        columns.remove(copy_key)
    settable = {f.name for f in overridable_fields(fields)}
    all_names = {f.name for f in fields}
    unknown = [h for h in columns if h not in all_names]
    fixed = [h for h in columns if h in all_names and h not in settable]
    errors += _named(
        unknown,
        one="Unknown column '{}': there is no such field.",
        many="Unknown columns, there are no such fields: {}.",
    )
    errors += _named(
        fixed,
        one="Column '{}' is a field that can't be set on a copy (read-only or system-managed).",
        many="Columns of fields that can't be set on a copy (read-only or system-managed): {}.",
    )
    return errors


def _named(names: list[str], *, one: str, many: str) -> list[str]:
    """`one` naming the column, or `many` listing a few of them; nothing for no columns."""
    if not names:
        return []
    return [one.format(names[0]) if len(names) == 1 else many.format(_some(names))]


def _parse_rows(reader: Reader, columns: Columns, fields: list[FieldInfo], max_rows: int) -> BulkParse:
    rows: list[BulkRow] = []
    seen: dict[str, int] = {}  # id -> the line it was first on
    for line, cells, malformed in _csv_records(reader):
        if not malformed and not any(c.strip() for c in cells):
            continue
        if len(rows) >= max_rows:
            return BulkParse([], [f"The file has more than {max_rows} rows; split it into smaller files."])
        if malformed:
            rows.append(BulkRow(line=line, source_id="", errors=[malformed]))
        else:
            rows.append(_parse_row(line, cells, columns, fields, seen))
    if not rows:
        return BulkParse([], ["The file has no rows of ids below the column names."])
    _refuse_repeated_unique_values(rows, columns)
    return BulkParse(rows, [])


def _refuse_repeated_unique_values(rows: list[BulkRow], columns: Columns) -> None:
    """The second row giving a unique field the same value as an earlier one is refused: the
    remote system would refuse that copy as a duplicate. A template ("{name__v} (copy)") gives
    each row its own value, so it is not compared."""
    unique = [name for name, info in columns.infos.items() if info.unique]
    for name in unique:
        seen: dict[str, int] = {}
        for row in rows:
            value = row.overrides.get(name)
            if not isinstance(value, str) or not value or is_template(value):
                continue
            if value in seen:
                label = columns.infos[name].label or name
                row.errors.append(
                    f"{label} “{value}” is also on line {seen[value]}: a unique value can go on one copy only."
                )
            else:
                seen[value] = row.line


def _parse_row(line: int, cells: list[str], columns: Columns, fields: list[FieldInfo], seen: dict[str, int]) -> BulkRow:
    id_col = columns.id_col
    row = BulkRow(line=line, source_id=(cells[id_col].strip() if id_col < len(cells) else ""))
    if len(cells) != len(columns.names):
        row.errors.append(f"Has {len(cells)} cells, expected {len(columns.names)}.")
    if not row.source_id:
        row.errors.append("The id is empty.")
    elif row.source_id in seen:
        row.errors.append(f"Duplicate id {row.source_id} (also on line {seen[row.source_id]}).")
    else:
        seen[row.source_id] = line
    for i, name in enumerate(columns.names):
        if i == id_col or i >= len(cells) or name not in columns.infos:
            continue
        _validate_cell(row, columns.infos[name], cells[i].strip())
    row.errors += _service_errors(row, fields)
    return row


def _csv_records(reader: Reader) -> Iterator[tuple[int, list[str], str]]:
    """Yield (line the record starts on, cells, error) for each record of a strict csv.reader.

    A malformed record is one error naming its line; reading goes on after it. An unclosed quote
    runs to the end of the file, so the message says which lines it took.
    """
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if str(exc) == "unexpected end of data":
                yield (
                    line,
                    [],
                    (
                        f"A quote opened on line {line} is never closed: lines {line}–{reader.line_num} "
                        "were read as one cell. Close the quote or remove it."
                    ),
                )
                return
            yield (
                line,
                [],
                (f'The CSV on line {line} is malformed ({exc}): a quote inside a quoted cell must be doubled ("").'),
            )
            continue
        yield line, cells, ""


def _service_errors(row: BulkRow, fields: list[FieldInfo]) -> list[str]:
    # The copy services' own rules (control characters, digits, ids), shown here per line.
    errors = source_id_errors([row.source_id]) if row.source_id else []
    return errors + list(override_errors(fields=fields, overrides=row.overrides).values())


def _validate_cell(row: BulkRow, info: FieldInfo, cell: str) -> None:
    label = info.label or info.name
    if not cell:
        return
    if cell.lower() == CLEAR_MARKER:
        if info.required:
            row.errors.append(f"{label} is required and can't be cleared.")
        else:
            row.overrides[info.name] = None
        return
    form_field = form_field_for(info, required=False)
    value: Any = cell
    if info.type == FieldType.MULTI_PICKLIST and info.picklist_values:
        value = [v.strip() for v in cell.split(";") if v.strip()]
    elif info.type == FieldType.BOOLEAN:
        lowered = cell.lower()
        if lowered not in ("true", "false", "yes", "no", "1", "0"):
            row.errors.append(f"{label}: '{cell}' isn't true or false.")
            return
        row.overrides[info.name] = lowered in ("true", "yes", "1")
        return
    try:
        cleaned = form_field.clean(value)
    except forms.ValidationError as exc:
        row.errors.append(f"{label}: {' '.join(exc.messages)}")
        return
    if info.type == FieldType.PICKLIST and info.picklist_values and cleaned not in info.picklist_values:
        row.errors.append(f"{label}: '{cell}' isn't one of {', '.join(info.picklist_values)}.")
        return
    row.overrides[info.name] = to_json_value(info, cleaned)
