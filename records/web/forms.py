"""Forms for the copy and job pages: validation only; the services do the work."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Iterator
from typing import Any, cast

from django import forms
from django.forms import BoundField
from django.utils import timezone

from records.connectors.base import FieldInfo, FieldType
from records.copying.remote_checks import is_user_target
from records.copying.validation import override_errors
from records.models import ConnectionProfile, CopyJob, RecordResult

# ---------------------------------------------------------------------------------------------
# Overrides built from field metadata

# Kinds that can't be typed into a form (files, subforms) are never offered as overrides.
OVERRIDABLE = {
    FieldType.TEXT,
    FieldType.LONG_TEXT,
    FieldType.NUMBER,
    FieldType.DECIMAL,
    FieldType.BOOLEAN,
    FieldType.DATE,
    FieldType.DATETIME,
    FieldType.PICKLIST,
    FieldType.MULTI_PICKLIST,
    FieldType.REFERENCE,
}


def overridable_fields(fields: list[FieldInfo]) -> list[FieldInfo]:
    return [f for f in fields if f.editable and not f.system_managed_name and f.type in OVERRIDABLE]


def form_field_for(info: FieldInfo, *, required: bool = False) -> forms.Field:
    """Return the form field (and so the widget) for one remote field."""
    common: dict[str, Any] = {"label": info.label or info.name, "required": required}
    kind = info.type
    if kind == FieldType.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind in (FieldType.NUMBER, FieldType.DECIMAL):
        # Digits and range are the services' rule (copying/validation.py), run by clean() below, so
        # the form, the CLI and the bulk CSV refuse the same values with the same words.
        if kind == FieldType.NUMBER:
            return forms.IntegerField(**common)
        return forms.DecimalField(**common)
    if kind == FieldType.BOOLEAN:
        return forms.NullBooleanField(widget=forms.NullBooleanSelect, label=common["label"])
    if kind == FieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == FieldType.DATETIME:
        # The box shows and reads the time in the site's zone, not the record's own offset: say so.
        return forms.DateTimeField(
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            help_text=f"Date and time in {timezone.get_current_timezone_name()}.",
            **common,
        )
    if kind in FieldType.PICKLISTS:
        return _picklist_field(info, common)
    if kind == FieldType.REFERENCE:
        return _reference_field(info, common)
    return forms.CharField(max_length=info.max_length, **common)


def _picklist_field(info: FieldInfo, common: dict[str, Any]) -> forms.Field:
    several = info.type == FieldType.MULTI_PICKLIST
    if not info.picklist_values:
        # Vault's object metadata names the picklist but lists no values: type the value name(s).
        hint = " (several: separate with ;)" if several else ""
        return forms.CharField(max_length=1000, help_text=f"Picklist value name, e.g. active__v{hint}.", **common)
    if several:
        return forms.MultipleChoiceField(choices=picklist_choices(info), widget=forms.CheckboxSelectMultiple, **common)
    return forms.ChoiceField(choices=[("", "—")] + picklist_choices(info), **common)


def _reference_field(info: FieldInfo, common: dict[str, Any]) -> forms.Field:
    # The field's label names what it points at ("Country", "Parent Account"): not an API name.
    target = f"the {info.label} record" if info.label else "a record"
    if is_user_target(info.reference_to):
        target = "a user (by name or e-mail)"
    # data-lookup: static/records/lookup.js offers matching records by name as you type.
    attrs = {"data-lookup": info.reference_to, "autocomplete": "off"} if info.reference_to else {}
    return forms.CharField(
        max_length=100,
        help_text=f"Type a name and pick {target} (or give its id).",
        widget=forms.TextInput(attrs=attrs),
        **common,
    )


def picklist_choices(info: FieldInfo) -> list[tuple[str, str]]:
    """(value, label) pairs: people pick "Active", the copy gets active__v."""
    labels = info.picklist_labels if len(info.picklist_labels) == len(info.picklist_values) else info.picklist_values
    return list(zip(info.picklist_values, labels, strict=True))


def to_json_value(info: FieldInfo, value: Any) -> Any:
    """Turn a cleaned form value into what the overrides JSON carries."""
    if value is None or value == "" or value == []:
        return None
    if info.type == FieldType.DECIMAL:
        return float(value)
    if info.type in (FieldType.DATE, FieldType.DATETIME):
        return value.isoformat()
    if info.type == FieldType.MULTI_PICKLIST and isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()]
    return value


def initial_value(info: FieldInfo, value: Any) -> Any:
    """The source value as the form field's own type, so that an untouched field is unchanged."""
    if info.type in (FieldType.DATE, FieldType.DATETIME, FieldType.DECIMAL):
        return _parsed_initial(info, value)
    if info.type == FieldType.REFERENCE and isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # an id answered as a number (Vault's user fields): the box holds its text
    if info.type == FieldType.PICKLIST and isinstance(value, list | tuple):
        return value[0] if value else ""  # Vault sends single-value picklists as one-item arrays
    if info.type == FieldType.MULTI_PICKLIST and not info.picklist_values and isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)  # typed into a text box (no values known)
    if info.type == FieldType.MULTI_PICKLIST and isinstance(value, str):
        return [v for v in value.split(";") if v] if value else []
    if isinstance(value, dict):  # Zoho lookups come as {"id": ..., "name": ...}
        return value.get("id", "")
    return value


def _parsed_initial(info: FieldInfo, value: Any) -> Any:
    """A date, date-time or decimal as the form field's type; a value that doesn't parse as is."""
    if isinstance(value, str) and value and info.type in (FieldType.DATE, FieldType.DATETIME):
        try:
            if info.type == FieldType.DATE:
                return dt.date.fromisoformat(value[:10])
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if info.type == FieldType.DECIMAL and isinstance(value, int | float | str) and value != "":
        try:
            return decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            return value
    return value


def _offer_current_value(field: forms.Field) -> None:
    """Keep the record's own picklist value(s) selectable even when no longer offered (an
    inactive value): else an untouched field fails as "Select a valid choice"."""
    if not isinstance(field, forms.ChoiceField):
        return
    current = field.initial if isinstance(field.initial, list) else [field.initial]
    choices: Any = field.choices  # a list of pairs here; the stubs allow callables and Choices too
    known = {str(value) for value, _ in choices}
    extra = [str(v) for v in current if v not in (None, "") and str(v) not in known]
    if extra:
        field.choices = list(choices) + [(v, f"{v} (current value, no longer offered)") for v in extra]


def starts_blank(info: FieldInfo) -> bool:
    """Fields the copy doesn't get from the source (never copied, or unique): their box starts
    empty (the source value is shown beside it), so what the box shows is what the copy gets."""
    return info.no_copy or info.unique


def suggested_value(
    info: FieldInfo, source: Any, taken: frozenset[str] = frozenset(), *, name_field: bool = False
) -> str:
    """A new value for a unique required field (the copy can't keep the source's), or for the
    record's name (`name_field`: Zoho's names aren't unique, yet a copy named like its source is
    told apart by nobody): "Acme Corp (copy)", or "(copy 2)", "(copy 3)" … when earlier copies
    hold those (`taken`: values known to be used)."""
    if not ((info.unique and info.required) or name_field) or not isinstance(source, str) or not source:
        return ""
    limit = info.max_length or 0
    value = ""
    for n in range(1, 21):
        suffix = " (copy)" if n == 1 else f" (copy {n})"
        value = (source[: limit - len(suffix)] if limit and len(source) + len(suffix) > limit else source) + suffix
        if value not in taken:
            return value
    return value  # 20 copies already: the fields step's uniqueness check says so


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


EMPTIED = (
    "This box is empty: tick “Clear” to leave the field empty on the copy, or type a value. "
    "(A number box empties itself when what is typed isn't a number.)"
)


class OverridesForm(forms.Form):
    """One input per editable field, prefilled with the source record's value, plus "clear" boxes.

    Only the fields a person changed (or cleared) become overrides, and the fields that start
    blank (see starts_blank) when given a value. An emptied box clears nothing by itself.
    """

    mode = forms.ChoiceField(
        choices=[
            (CopyJob.Mode.CLONE, "Clone this record"),
            (CopyJob.Mode.DEEP_COPY, "Deep copy: the record and its related records"),
        ],
        initial=CopyJob.Mode.CLONE,
        widget=forms.RadioSelect,
        label="What to copy",
    )

    def __init__(
        self,
        *args: Any,
        fields: list[FieldInfo],
        record_values: dict[str, Any],
        taken: Iterable[str] = frozenset(),
        name_fields: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.taken = frozenset(taken)  # values of unique fields earlier copies hold (suggestions skip them)
        # {field: the suggested name}: a name box that keeps the source's value otherwise, offered
        # "… (copy)" as Vault's unique name is; the copy gets what the box holds, changed or not.
        self.suggested: dict[str, str] = {}
        names = frozenset(name_fields)
        self.all_fields = fields
        self.infos = {f.name: f for f in overridable_fields(fields)}
        # {field: name of the record the source references}, set by the view when it shows the form
        # (it reads them then, not for a POST that goes on to the preview).
        self.ref_names: dict[str, str] = {}
        self.sources: dict[str, Any] = {}
        for info in self.infos.values():
            name = f"f_{info.name}"
            source = initial_value(info, record_values.get(info.name))
            self.sources[info.name] = source
            self.fields[name] = form_field_for(info, required=False)
            self.fields[name].initial = suggested_value(info, source, self.taken) if starts_blank(info) else source
            if not starts_blank(info):
                _offer_current_value(self.fields[name])
                self._suggest_name(info, source, names)
            if not info.required:
                self.fields[f"clear_{info.name}"] = forms.BooleanField(
                    required=False, label=f"Clear {info.label or info.name} on the copy"
                )
            if info.unique and info.type in (FieldType.TEXT, FieldType.LONG_TEXT):
                # Make unique: a value another record holds is numbered at run time (unique.py).
                self.fields[f"unique_{info.name}"] = forms.BooleanField(
                    required=False, label=f"Make {info.label or info.name} unique on the copy"
                )

    def _suggest_name(self, info: FieldInfo, source: Any, names: frozenset[str]) -> None:
        suggestion = suggested_value(info, source, self.taken, name_field=info.name in names)
        if suggestion:
            self.suggested[info.name] = suggestion
            self.fields[f"f_{info.name}"].initial = suggestion

    def rows(self) -> Iterator[tuple[FieldInfo, BoundField, BoundField | None, Any, str, BoundField | None]]:
        """(info, bound value field, bound clear field or None, source value shown beside or None,
        the name of the record a reference box holds or "", bound Make unique box or None)."""
        for info in self.infos.values():
            clear = self[f"clear_{info.name}"] if f"clear_{info.name}" in self.fields else None
            unique = self[f"unique_{info.name}"] if f"unique_{info.name}" in self.fields else None
            source = self.sources[info.name]
            beside = source if starts_blank(info) and not _empty(source) else None
            yield info, self[f"f_{info.name}"], clear, beside, self.ref_names.get(info.name, ""), unique

    def made_unique(self) -> list[str]:
        """The fields whose Make unique box is ticked (after is_valid)."""
        return [n for n in self.infos if self.cleaned_data.get(f"unique_{n}")]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for info in self.infos.values():
            self._check_box(info, data)
        if not self.errors:
            # The engine's own rules (required fields can't be blanked, types, picklists, lengths).
            for field, message in override_errors(fields=self.all_fields, overrides=self.overrides()).items():
                self.add_error(f"f_{field}" if f"f_{field}" in self.fields else None, message)
        return data

    def _check_box(self, info: FieldInfo, data: dict[str, Any]) -> None:
        name = f"f_{info.name}"
        if name in self.errors:
            return
        value, cleared = data.get(name), data.get(f"clear_{info.name}")
        touched = name in self.changed_data or starts_blank(info)
        if cleared and touched and not _empty(value):
            self.add_error(name, "Either change the value or clear it, not both.")
        elif starts_blank(info):
            numbered = data.get(f"unique_{info.name}")
            if info.unique and not numbered and not _empty(value) and value == self.sources[info.name]:
                self.add_error(name, f"{info.label} is unique: the copy needs a value other than the source's.")
            elif info.required and _empty(value):
                hint = suggested_value(info, self.sources[info.name], self.taken)
                kind = "unique and required" if info.unique else "required and not copied"
                self.add_error(
                    name, f"{info.label} is {kind}: give the copy a value" + (f", e.g. “{hint}”." if hint else ".")
                )
        elif name in self.changed_data and _empty(value) and not cleared and not info.required:
            self.add_error(name, EMPTIED)

    def overrides(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for info in self.infos.values():
            value = self.cleaned_data.get(f"f_{info.name}")
            if self.cleaned_data.get(f"clear_{info.name}"):
                result[info.name] = None
            elif starts_blank(info):
                if not _empty(value):
                    result[info.name] = to_json_value(info, value)
            elif f"f_{info.name}" in self.changed_data or (info.name in self.suggested and not _empty(value)):
                result[info.name] = to_json_value(info, value)
        return result


# ---------------------------------------------------------------------------------------------
# Jobs and results filters


class JobFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status")] + list(CopyJob.Status.choices))
    profile = forms.ChoiceField(required=False, label="Profile")
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Name or record id",
        help_text="A record's name, a source or new id, or part of one.",
    )

    def __init__(self, *args: Any, profiles: Iterable[ConnectionProfile], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        profile_field = cast(forms.ChoiceField, self.fields["profile"])  # declared as one above
        profile_field.choices = [("", "Any profile")] + [(str(p.code), p.name) for p in profiles]


class ResultFilterForm(forms.Form):
    outcome = forms.ChoiceField(required=False, choices=[("", "Any outcome")] + list(RecordResult.Status.choices))
    object = forms.ChoiceField(required=False, label="Object")
    q = forms.CharField(required=False, max_length=100, label="Name or record id")

    def __init__(self, *args: Any, objects: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        object_field = cast(forms.ChoiceField, self.fields["object"])  # declared as one above
        object_field.choices = [("", "Any object")] + [(o, o) for o in objects]


# ---------------------------------------------------------------------------------------------
# Bulk clone from CSV

MAX_BULK_ROWS = 1000
MAX_BULK_BYTES = 2 * 1024 * 1024


class BulkUploadForm(forms.Form):
    profile = forms.ChoiceField(label="Connection profile")
    object_name = forms.CharField(
        label="Object / module", max_length=200, help_text="API name, e.g. product__v or Accounts."
    )
    file = forms.FileField(
        label="CSV file",
        help_text=f"A column 'id' with source record ids; other columns are fields to override. Up to {MAX_BULK_ROWS} rows, UTF-8.",
    )

    def __init__(self, *args: Any, profiles: Iterable[ConnectionProfile], chosen: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        profile_field = cast(forms.ChoiceField, self.fields["profile"])  # declared as one above
        profile_field.choices = [(str(p.code), str(p)) for p in profiles]
        if chosen:
            # Profile and object were chosen from lists above the form (GET): carried along here.
            self.fields["profile"].widget = forms.HiddenInput()
            self.fields["object_name"].widget = forms.HiddenInput()

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BULK_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_BULK_BYTES // 1024 // 1024} MB.")
        raw: bytes = upload.read()
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(
                "The file isn't UTF-8 text. Save it as 'CSV UTF-8' and upload it again."
            ) from None
