"""The preview's checks of a copy request against the remote system's metadata: the values asked
for, the records and users they reference, the per-object choices. Each raises ValidationError in
the user's words; the preview (preview.py) runs them before it reads a record."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from records.connectors.base import Connector, FieldInfo
from records.connectors.errors import ConnectorError
from records.copying import choices
from records.copying.options import CopyOptions
from records.copying.remote_checks import missing_references
from records.copying.request import CopyRequest
from records.masking import rules as masking_rules
from records.models import CopyJob


def check_request(conn: Connector, fields: list[FieldInfo], request: CopyRequest) -> None:
    """The overrides (every record's and each record's own), their references, then the options."""
    overrides, row_overrides = request.overrides, request.row_overrides
    where = request.object_name
    names = request.named_fields()
    choices.check_not_copy_key(fields=fields, key_names=conn.copy_key_fields, names=names, where=where)
    choices.check_values(fields=fields, values=overrides)
    for source_id, values in row_overrides.items():
        try:
            choices.check_values(fields=fields, values=values)
        except ValidationError as exc:
            raise ValidationError(f"Record {source_id}: " + " ".join(exc.messages)) from exc
    _check_references(conn, fields, overrides, row_overrides)
    _check_options(conn, request.object_name, request.mode, request.options)
    _check_masks(conn, request)


def _check_masks(conn: Connector, request: CopyRequest) -> None:
    """Each masking rule fits its field (not the copy key, not a reference, a type and length it
    can fill), and a masked field is neither set nor made unique as well (one choice per field)."""
    options = request.options
    for obj, rules in options.mask.items():
        try:
            fields = conn.describe(obj)
        except ConnectorError as exc:
            raise ValidationError(f"Masking names {obj}, which this profile can't describe: {exc.message}") from exc
        key = choices.copy_key_of(fields, conn.copy_key_fields)
        masking_rules.check(object_name=obj, fields=fields, rules=rules, key_field=key)
        masked = {n for n, r in rules.items() if r != masking_rules.KEEP}
        named = set(options.fields_for(obj)) | set(options.unique.get(obj, ())) | {options.lineage.get(obj, "")}
        if obj == request.object_name:
            named |= request.named_fields()
        both = sorted(masked & named)
        if both:
            raise ValidationError(
                f"{obj}: {', '.join(both)} {'is' if len(both) == 1 else 'are'} masked and also set, stamped or "
                "made unique: choose one for each field."
            )


def _check_references(
    conn: Connector, fields: list[FieldInfo], overrides: dict[str, Any], row_overrides: dict[str, dict[str, Any]]
) -> None:
    """A reference (Zoho's Owner too) names a record or user that exists, checked as on the
    fields step, the distinct ids read in batches, before anything is queued."""
    infos = {f.name: f for f in fields}
    rows = [("", overrides or {}), *row_overrides.items()]
    errors = missing_references(connector=conn, infos=infos, rows=rows)
    if errors:
        shown = [f"{infos[name].label}: {message}" for name, message in errors[:3]]
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise ValidationError(" ".join(shown) + more)


def _check_options(conn: Connector, object_name: str, mode: str, options: CopyOptions) -> None:
    """Each per-object choice against that object's metadata (the same checks as the overrides),
    then the choices against the system and the mode."""
    if object_name in options.exclude:
        raise ValidationError(f"{object_name} is the object being copied; only related objects can be left out.")
    _check_named_fields(conn, options)
    _check_system_choices(conn, options)
    _check_unique_fields(conn, options)
    _check_mode(conn, object_name, mode, options)


def _check_named_fields(conn: Connector, options: CopyOptions) -> None:
    """The fields set, stamped with lineage or made unique: never the copy key, and fit for it."""
    keys = conn.copy_key_fields
    for obj, values in options.fields.items():
        choices.check_not_copy_key(fields=conn.describe(obj), key_names=keys, names=values, where=obj)
        choices.check_values(fields=conn.describe(obj), values=values, where=obj)
    for obj, name in options.lineage.items():
        choices.check_not_copy_key(fields=conn.describe(obj), key_names=keys, names=[name], where=obj)
        choices.check_lineage(fields=conn.describe(obj), field_name=name, where=obj)
    for obj, names in options.unique.items():
        choices.check_not_copy_key(fields=conn.describe(obj), key_names=keys, names=names, where=obj)


def _check_system_choices(conn: Connector, options: CopyOptions) -> None:
    zoho_only = [f for f in ("skip_cadences", "run_workflows") if getattr(options, f)]
    vault_only = [f for f in ("migration_mode", "no_triggers") if getattr(options, f)]
    if conn.native_deep_copy and zoho_only:
        raise ValidationError(f"{', '.join(zoho_only)}: Zoho CRM choices; this profile is Vault.")
    if vault_only and not conn.native_deep_copy:
        raise ValidationError(f"{', '.join(vault_only)}: Vault choices; this profile is Zoho CRM.")
    if options.no_triggers and not options.migration_mode:
        raise ValidationError(
            "No triggers works only with migration mode (X-VaultAPI-NoTriggers needs X-VaultAPI-MigrationMode)."
        )


def _check_unique_fields(conn: Connector, options: CopyOptions) -> None:
    for obj, names in options.unique.items():
        infos = {f.name: f for f in conn.describe(obj)}
        bad = [n for n in names if n not in infos or not infos[n].unique or infos[n].type not in choices.TEXT_TYPES]
        if bad:
            raise ValidationError(f"{obj}: only unique text fields can be made unique; {', '.join(bad)} isn't one.")


def _check_mode(conn: Connector, object_name: str, mode: str, options: CopyOptions) -> None:
    """What a clone can't make."""
    if mode == CopyJob.Mode.CLONE and options.changes_below(object_name):
        raise ValidationError(
            "A clone copies only the records themselves: leaving out related objects or "
            "changing them needs a deep copy."
        )
    # Not refused: make unique with Vault's own deep copy. Its call takes the top record's values
    # (api-notes vault.md §5.1: "Body (optional) = overrides for the top-level copy", e.g.
    # name__v), so the name is sent in it and, when taken, numbered and sent in a new deep copy
    # (vault_deep_copy.py, where the unconfirmed part is said). A choice below the top has Record
    # Copier build the copy instead (options.changes_below).
