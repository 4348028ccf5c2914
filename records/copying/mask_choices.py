"""The preview's masking table: per object of the plan, the fields the target's policy masks (locked),
those the user chose, and those that look personal (suggested, pre-selected but not yet chosen),
each with the rules that fit it; and which suggestions are still unconfirmed.

A suggestion is unconfirmed until the user has a rule of their own for the field (`keep` included,
which says "copy it as it is"), or asked for every suggestion (`mask_suggested`). A copy into
another profile can't be confirmed while one is (`unconfirmed_words`): the data leaves its
environment there, and neither applying a rule the person has not seen the sample of nor copying a
field shown as "to be masked" unmasked is what they expect. Within one profile the records stay
where they are: suggestions are offered, nothing is masked unless chosen. Pure: the fields come in
through `describe`, the copy key's name through `key_field`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from records.connectors.base import FieldInfo
from records.copying.options import CopyOptions
from records.masking import rules as R
from records.masking.suggest import suggest

Describe = Callable[[str], list[FieldInfo]]
KeyField = Callable[[list[FieldInfo]], str]
POLICY, CHOSEN, SUGGESTED = "policy", "chosen", "suggested"


@dataclass
class MaskRow:
    field: str
    label: str
    rule: str
    why: str  # POLICY (locked), CHOSEN (the user's), SUGGESTED (pre-selected, not yet chosen)
    rules: tuple[str, ...]  # the rules the select offers: those that fit the field
    count: int | None = None  # the plan's (records holding a value), when the rule is applied
    sample_source: Any = None
    sample_standin: Any = None


@dataclass
class MaskObject:
    object_name: str
    label: str
    rows: list[MaskRow] = field(default_factory=list)
    others: list[tuple[str, str]] = field(default_factory=list)  # (field, label) a rule can be added on


def fitting(info: FieldInfo, key_field: str) -> tuple[str, ...]:
    return tuple(r for r in R.RULES if not R.fit_error(info, r, key_field=key_field))


def mask_table(
    *,
    objects: Iterable[tuple[str, str]],
    describe: Describe,
    options: CopyOptions,
    policy: R.Rules,
    key_field: KeyField,
    planned: dict[str, list[dict[str, Any]]] | None = None,
) -> list[MaskObject]:
    """One MaskObject per (object, label) of the plan; `planned`: the plan's masking (counts, samples)."""
    out = []
    for name, label in objects:
        fields = describe(name)
        out.append(_object(name, label, fields, options, policy.get(name, {}), key_field(fields), planned or {}))
    return out


def _object(
    name: str,
    label: str,
    fields: list[FieldInfo],
    options: CopyOptions,
    policy: dict[str, str],
    key: str,
    planned: dict[str, list[dict[str, Any]]],
) -> MaskObject:
    chosen = {f: r for f, r in options.mask.get(name, {}).items() if f not in policy}
    suggested = suggest(object_name=name, fields=fields, key_field=key)
    shown = {p["field"]: p for p in planned.get(name, [])}
    obj = MaskObject(name, label)
    for info in fields:
        rule, why = _rule_of(info.name, policy, chosen, suggested)
        if not rule:
            if any(r != R.KEEP for r in fitting(info, key)):
                obj.others.append((info.name, info.label or info.name))
            continue
        offered = (rule,) if why == POLICY else tuple(dict.fromkeys((*fitting(info, key), rule)))
        row = MaskRow(info.name, info.label or info.name, rule, why, offered)
        if why != SUGGESTED and info.name in shown:
            p = shown[info.name]
            row.count, row.sample_source, row.sample_standin = (
                p["count"],
                p.get("sample_source"),
                p.get("sample_standin"),
            )
        obj.rows.append(row)
    return obj


def _rule_of(name: str, policy: dict[str, str], chosen: dict[str, str], suggested: dict[str, str]) -> tuple[str, str]:
    if name in policy:
        return policy[name], POLICY
    if name in chosen:
        return chosen[name], CHOSEN
    if name in suggested:
        return suggested[name], SUGGESTED
    return "", ""


def unconfirmed_rows(table: list[MaskObject], options: CopyOptions) -> dict[str, list[MaskRow]]:
    """{object: [row]} of the suggestions the user has not chosen a rule for: the one rule the web,
    the CLI and the API confirm by."""
    if options.mask_suggested:
        return {}
    out = {o.object_name: [r for r in o.rows if r.why == SUGGESTED] for o in table}
    return {o: rows for o, rows in out.items() if rows}


def unconfirmed(table: list[MaskObject], options: CopyOptions) -> dict[str, list[str]]:
    """{object: [field label]} of the suggestions the user has not chosen a rule for."""
    return {o: [r.label for r in rows] for o, rows in unconfirmed_rows(table, options).items()}


# How the refusal ends, by where the copy is asked: the preview's table, or the command's flags.
HOW_WEB = "Choose a rule for each (keep copies it as it is) and apply the masking."
HOW_FLAGS = (
    "Add --mask OBJECT:FIELD=RULE for each (=keep copies it as it is), or --mask-suggested to apply "
    "every suggested rule."
)


def unconfirmed_words(
    table: list[MaskObject], options: CopyOptions, *, target_name: str, how: str = HOW_WEB, names: bool = False
) -> str:
    """Why Confirm is refused ("" when it isn't): suggestions not chosen on a copy into `target_name`.
    `names`: each field as "name (label): rule" (what the flags take) rather than by its label."""
    left = unconfirmed_rows(table, options)
    if not left:
        return ""
    shown = (lambda r: f"{r.field} ({r.label}): {r.rule}") if names else (lambda r: r.label)
    named = "; ".join(f"{obj}: {', '.join(shown(r) for r in rows)}" for obj, rows in left.items())
    return f"Confirm the masking first: these fields look personal and would leave for {target_name} ({named}). {how}"


def chosen_rules(
    *, rows: Iterable[tuple[str, str, str]], describe: Describe, key_field: KeyField, policy: R.Rules
) -> R.Rules:
    """The masking form's rows (object, field, rule) as {object: {field: rule}}, each checked
    against its field (rules.check's words); a row on a policy field is left to the policy."""
    rules = R.parse((f"{o}:{f}={r}" for o, f, r in rows if f and r), top_object="", flag="Masking")
    rules = {o: {f: r for f, r in fs.items() if f not in policy.get(o, {})} for o, fs in rules.items()}
    errors: list[str] = []
    for obj, fields in rules.items():
        infos = describe(obj)
        try:
            R.check(object_name=obj, fields=infos, rules=fields, key_field=key_field(infos))
        except ValidationError as exc:
            errors += exc.messages
    if errors:
        raise ValidationError(errors)
    return {o: fs for o, fs in rules.items() if fs}
