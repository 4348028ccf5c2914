"""What the copy engine asks of masking: a record's stand-ins, and the labels the ledger keeps.

`MaskSet` is one run's: its rules ({object: {field: rule}}: the target's policy, the user's rules
and, when asked, the suggestions), its Masker (the write profile's key) and the metadata of the
fields it masks. The engine names no field: it hands over an object's source values and gets back
the same values with every masked field replaced (`masked_source`, which templates render from, so
`{Email}` in another field gives the stand-in too) and the stand-ins to send (`standins`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from records.connectors.base import FieldInfo
from records.masking import rules as R
from records.masking.standins import Masker
from records.masking.suggest import suggest

Describe = Callable[[str], list[FieldInfo]]


class MaskSet:
    def __init__(
        self,
        *,
        rules: R.Rules,
        key: Callable[[], bytes],
        describe: Describe,
        suggested: bool = False,
        key_field: Callable[[str], str] = lambda _obj: "",
        held: dict[tuple[str, str], set[str]] | None = None,
    ) -> None:
        self._rules = rules
        self._key = key
        self._describe = describe
        self._suggested = suggested
        self._key_field = key_field
        self._held = held or {}
        self._masker: Masker | None = None
        self._by_object: dict[str, dict[str, tuple[str, FieldInfo]]] = {}

    @property
    def masker(self) -> Masker:
        if self._masker is None:
            self._masker = Masker(self._key(), self._held)  # the key only when a value is masked: made on first use
        return self._masker

    def hold(self, object_name: str, field_name: str, standins: list[Any]) -> None:
        """Mark stand-ins as held in the target: later stand-ins of the field pass over them (a new
        Masker: the ones computed so far are forgotten)."""
        digests = self._held.setdefault((object_name, field_name), set())
        digests.update(self.masker.held_digest(object_name, field_name, s) for s in standins)
        self._masker = None

    def held(self) -> dict[tuple[str, str], set[str]]:
        return self._held

    def rules_for(self, object_name: str) -> dict[str, str]:
        """{field: rule} of one object (keep rules left out: nothing to do for them)."""
        return {name: rule for name, (rule, _info) in self._fields(object_name).items()}

    def _fields(self, object_name: str) -> dict[str, tuple[str, FieldInfo]]:
        if object_name not in self._by_object:
            named = self._rules.get(object_name, {})
            if not named and not self._suggested:
                self._by_object[object_name] = {}
                return {}
            fields = self._describe(object_name)
            wanted = dict(named)
            if self._suggested:
                found = suggest(object_name=object_name, fields=fields, key_field=self._key_field(object_name))
                wanted = {**found, **named}
            infos = {f.name: f for f in fields}
            self._by_object[object_name] = {
                n: (rule, infos[n]) for n, rule in wanted.items() if rule != R.KEEP and n in infos
            }
        return self._by_object[object_name]

    def any_rules(self) -> bool:
        """Whether anything may be masked (a rule other than keep, or the suggestions)."""
        return self._suggested or any(r != R.KEEP for rules in self._rules.values() for r in rules.values())

    def infos(self, object_name: str) -> dict[str, FieldInfo]:
        """The masked fields' metadata."""
        return {name: info for name, (_rule, info) in self._fields(object_name).items()}

    def any_for(self, object_name: str) -> bool:
        return bool(self._fields(object_name))

    def standins(self, object_name: str, source: dict[str, Any]) -> dict[str, Any]:
        """{field: stand-in} for every masked field the source holds a value in (blank: None)."""
        out: dict[str, Any] = {}
        for name, (rule, info) in self._fields(object_name).items():
            value = source.get(name)
            if value is None or value == "" or value == []:
                continue
            out[name] = self.masker.standin(rule, value, info, object_name=object_name)
        return out

    def key_values(self, object_name: str, field: str, values: dict[str, str]) -> dict[str, str]:
        """Match-key values as a masked copy wrote them, when the key field is masked: a re-run, or a
        reference, finds a masked copy by its stand-in (the same key gives the same one)."""
        if field not in self.rules_for(object_name):
            return values
        out = {}
        for k, v in values.items():
            standin = self.standins(object_name, {field: v}).get(field) if v else v
            out[k] = standin.strip() if isinstance(standin, str) else ""
        return out

    def masked_source(self, object_name: str, source: dict[str, Any]) -> dict[str, Any]:
        """The source's values with every masked field's replaced: what templates may read."""
        standins = self.standins(object_name, source)
        return {**source, **standins} if standins else source

    def labelled(self, object_name: str, values: dict[str, Any] | None) -> dict[str, Any] | None:
        """`values` as the ledger keeps them: "masked (email)" in place of each masked field's value."""
        if not values:
            return values
        fields = self._fields(object_name)
        if not fields:
            return values
        return {k: R.label(fields[k][0]) if k in fields else v for k, v in values.items()}


def unlabelled(values: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """What to send of stored `values`: a masked field's label replaced by its stand-in from
    `wanted` (recomputed: the same key and value give the same stand-in)."""
    return {k: wanted.get(k) if R.is_label(v) else v for k, v in values.items()}
