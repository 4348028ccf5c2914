"""A bulk clone's CSV file read and checked row by row against the field metadata (nothing is
queued here), and the template file offered to fill in."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django import forms

from records.connectors.base import FieldInfo, FieldType
from records.copying.choices import own_field_message
from records.copying.validation import override_errors, source_id_errors
from records.web.forms import MAX_BULK_ROWS, form_field_for, overridable_fields, to_json_value

ID_COLUMNS = ("id", "source_id")


@dataclass
class BulkRow:
    line: int
    source_id: str
    overrides: dict = field(default_factory=dict)
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
    infos = {f.name: f for f in overridable_fields(fields)}
    all_names = {f.name for f in fields}
    try:
        # strict: a stray or unclosed quote is an error (a row error below), not a silently merged cell.
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        header = next(reader, None)
    except csv.Error as exc:
        return BulkParse([], [f"The file isn't valid CSV: {exc}."])
    if not header or not any(h.strip() for h in header):
        return BulkParse([], ["The file is empty. The first line must name the columns, e.g. 'id'."])
    header = [h.strip() for h in header]
    errors = []
    id_cols = [i for i, h in enumerate(header) if h.lower() in ID_COLUMNS]
    if len(id_cols) != 1:
        errors.append("The first line must have exactly one column named 'id' holding the source record ids.")
    named = Counter(header)
    dupes = sorted(h for h, n in named.items() if n > 1)
    if dupes:
        errors.append(f"Columns named more than once: {_some(dupes, quote=False)}.")
    columns = [h for h in named if h and h.lower() not in ID_COLUMNS]
    if copy_key and copy_key in columns:
        label = next((f.label for f in fields if f.name == copy_key), "") or copy_key
        errors.append(f"Column '{copy_key}': " + own_field_message(label, copy_key))
        columns.remove(copy_key)
    unknown = [h for h in columns if h not in all_names]
    fixed = [h for h in columns if h in all_names and h not in infos]
    # One line per kind, a few names each: a header of thousands of columns gets a short answer.
    if len(unknown) == 1:
        errors.append(f"Unknown column '{unknown[0]}': there is no such field.")
    elif unknown:
        errors.append(f"Unknown columns, there are no such fields: {_some(unknown)}.")
    if len(fixed) == 1:
        errors.append(f"Column '{fixed[0]}' is a field that can't be set on a copy (read-only or system-managed).")
    elif fixed:
        errors.append(f"Columns of fields that can't be set on a copy (read-only or system-managed): {_some(fixed)}.")
    if errors:
        return BulkParse([], errors)
    id_col = id_cols[0]
    rows: list[BulkRow] = []
    seen: dict[str, int] = {}
    try:
        for line, cells, malformed in _csv_records(reader):
            if not malformed and not any(c.strip() for c in cells):
                continue
            if len(rows) >= max_rows:
                return BulkParse([], [f"The file has more than {max_rows} rows; split it into smaller files."])
            if malformed:
                rows.append(BulkRow(line=line, source_id="", errors=[malformed]))
                continue
            row = BulkRow(line=line, source_id=(cells[id_col].strip() if id_col < len(cells) else ""))
            if len(cells) != len(header):
                row.errors.append(f"Has {len(cells)} cells, expected {len(header)}.")
            if not row.source_id:
                row.errors.append("The id is empty.")
            elif row.source_id in seen:
                row.errors.append(f"Duplicate id {row.source_id} (also on line {seen[row.source_id]}).")
            else:
                seen[row.source_id] = line
            for i, name in enumerate(header):
                if i == id_col or i >= len(cells) or name not in infos:
                    continue
                _validate_cell(row, infos[name], cells[i].strip())
            row.errors += _service_errors(row, fields)
            rows.append(row)
    except csv.Error as exc:
        return BulkParse([], [f"The file isn't valid CSV: {exc}."])
    if not rows:
        return BulkParse([], ["The file has no rows of ids below the column names."])
    return BulkParse(rows, [])


def _csv_records(reader):
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
