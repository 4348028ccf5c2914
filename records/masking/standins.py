"""Masker: the stand-in of a source value, the same for the same value and key, fitting its field.

A keyed HMAC-SHA256 of (rule, value) is the seed: the same value masked with the same key (one per
target profile, keys.py) gives the same stand-in in every job, so a contact masked twice is one
person in the target; another key gives another. The realistic parts (first and last names, company
suffixes, streets, cities, states, words) are Faker's own en_US data, picked by the seed. Calling
Faker's generator seeded per value (`seed_instance` then `email()`) costs ~150 µs a value here,
0.75 ms for a record with five masked fields: four times the budget (bench `masking`), so the seed
picks from Faker's lists and the formats follow Faker's (`{last_name} {company_suffix}`, ...).

E-mail stand-ins are at example.com / .org / .net (RFC 2606, Faker's `safe_email`): a copy can never
mail a real inbox. A unique field's stand-ins stay unique within a job: a stand-in another value
took already is passed over for the next one (the seed with an attempt number).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

from faker.providers.address import en_US as faker_address
from faker.providers.company import en_US as faker_company
from faker.providers.lorem import en_US as faker_lorem
from faker.providers.person import en_US as faker_person

from records.connectors.base import FieldInfo, FieldType
from records.masking import rules as R

MAX_ATTEMPTS = 50  # stand-ins tried for one value before giving up (a tiny picklist, a full range)
DATE_SHIFT_DAYS = 365  # a date moves 1 to this many days, earlier or later, the same for the same date
SAFE_TLDS = ("com", "org", "net")
_COMPANY_WORDS = ("account", "company", "organization", "organisation", "employer", "vendor", "firm", "business")


def _ascii(words: Sequence[str]) -> tuple[str, ...]:
    return tuple(w for w in words if w.isascii() and w.isalpha())


FIRST = _ascii(list(faker_person.Provider.first_names))
LAST = _ascii(list(faker_person.Provider.last_names))
COMPANY_SUFFIXES = tuple(faker_company.Provider.company_suffixes)
STREET_SUFFIXES = tuple(faker_address.Provider.street_suffixes)
CITY_SUFFIXES = tuple(faker_address.Provider.city_suffixes)
CITY_PREFIXES = tuple(faker_address.Provider.city_prefixes)
STATES = tuple(faker_address.Provider.states)
STATES_ABBR = tuple(faker_address.Provider.states_abbr)
WORDS = _ascii(faker_lorem.Provider.word_list)


class Exhausted(ValueError):
    """No stand-in left that fits (a unique field whose possible values are all taken)."""


class _Draw:
    """Choices taken one after another from a 256-bit seed."""

    __slots__ = ("n",)

    def __init__(self, digest: bytes) -> None:
        self.n = int.from_bytes(digest, "big")

    def below(self, k: int) -> int:
        self.n, i = divmod(self.n, k)
        return i

    def pick(self, seq: Sequence[str]) -> str:
        return seq[self.below(len(seq))]

    def digit(self, *, nonzero: bool = False) -> str:
        return str(1 + self.below(9)) if nonzero else str(self.below(10))


class Masker:
    """The stand-ins of one key: one Masker per run (its used stand-ins are that job's)."""

    def __init__(self, key: bytes, held: dict[tuple[str, str], set[str]] | None = None) -> None:
        self._key = key
        self._used: dict[tuple[str, str], dict[Any, str]] = {}  # {(object, field): {stand-in: source}}
        # {(object, field): digests of the stand-ins a record in the target holds already} (copying/
        # mask_unique.py): passed over like a stand-in another value took. Digests: the job keeps no value.
        self._held = held or {}

    def held_digest(self, object_name: str, field_name: str, standin: Any) -> str:
        text = f"held\x1f{object_name}\x1f{field_name}\x1f{str(standin).strip().casefold()}"
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def digest(self, rule: str, value: Any, attempt: int = 0) -> bytes:
        text = _canonical(rule, value)
        return hmac.new(self._key, f"{rule}\x1f{attempt}\x1f{text}".encode(), hashlib.sha256).digest()

    def standin(self, rule: str, value: Any, info: FieldInfo, *, object_name: str = "") -> Any:
        """The stand-in of `value` in the field `info` (`keep`: the value; `blank`: None; an empty
        value stays empty). Never the source value itself; unique within this Masker on a unique field."""
        if rule == R.KEEP or value is None or value == "":
            return value
        if rule == R.BLANK:
            return None
        seen = self._used.setdefault((object_name, info.name), {}) if info.unique else None
        held = self._held.get((object_name, info.name)) if info.unique else None
        source = _canonical(rule, value)
        for attempt in range(MAX_ATTEMPTS):
            out = _make(rule, value, info, _Draw(self.digest(rule, value, attempt)), self._key)
            if out is None or _same(out, value):
                continue
            if seen is not None:
                if held and self.held_digest(object_name, info.name, out) in held:
                    continue  # a record in the target holds it: the next one
                if seen.setdefault(out, source) != source:
                    continue  # another value has this stand-in in this job: the next one
            return out
        if info.picklist_values or not info.required:
            return None  # nothing else fits (a one-value picklist): left empty rather than kept
        raise Exhausted(f"{info.label} ({info.name}): no stand-in left for the {rule} rule.")


def _canonical(rule: str, value: Any) -> str:
    text = str(value).strip()
    return text.casefold() if rule == R.EMAIL else text


def _same(out: Any, value: Any) -> bool:
    if isinstance(out, str) and isinstance(value, str):
        return out.strip().casefold() == value.strip().casefold()
    return bool(out == value)


def _make(rule: str, value: Any, info: FieldInfo, draw: _Draw, key: bytes) -> Any:
    if info.picklist_values:
        return _picklist(value, info, draw)
    if rule == R.NUMBER and info.type in (FieldType.NUMBER, FieldType.DECIMAL):
        return _number(value, info, draw)
    if rule == R.DATE:
        return _date(value, draw)
    if rule == R.HASH:
        return _fit(hmac.new(key, f"hash\x1f{value}".encode(), hashlib.sha256).hexdigest()[:32], info)
    text = str(value)
    if rule in (R.PHONE, R.NUMBER):
        return _digits(text, draw)
    makers = {R.EMAIL: _email, R.NAME: _name, R.TEXT: _text, R.ADDRESS: _address}
    return makers[rule](text, info, draw)


def _fit(text: str, info: FieldInfo) -> str:
    return text[: info.max_length] if info.max_length else text


def _picklist(value: Any, info: FieldInfo, draw: _Draw) -> Any:
    others = [v for v in info.picklist_values if v != value]
    return draw.pick(others) if others else None


def _email(text: str, info: FieldInfo, draw: _Draw) -> str:
    domain = f"@example.{draw.pick(SAFE_TLDS)}"
    local = f"{draw.pick(FIRST)}.{draw.pick(LAST)}{draw.below(100)}".lower()
    if info.max_length and len(local) + len(domain) > info.max_length:
        local = local[: info.max_length - len(domain)]
    return local + domain


def _kind(info: FieldInfo) -> str:
    words = f"{info.name} {info.label}".lower()
    return _kind_of(words)


@lru_cache(maxsize=1024)
def _kind_of(words: str) -> str:
    if any(w in words for w in _COMPANY_WORDS):
        return "company"
    if "first" in words or "given" in words:
        return "first"
    if "last" in words or "surname" in words or "family" in words:
        return "last"
    for part in ("city", "state", "zip", "postal", "post_code", "postcode", "country"):
        if part in words:
            return part
    return "person"


def _name(text: str, info: FieldInfo, draw: _Draw) -> str:
    kind = _kind(info)
    if kind == "company":
        out = f"{draw.pick(LAST)} {draw.pick(COMPANY_SUFFIXES)}"
    elif kind == "first":
        out = draw.pick(FIRST)
    elif kind == "last":
        out = draw.pick(LAST)
    else:
        out = f"{draw.pick(FIRST)} {draw.pick(LAST)}"
    return _fit(out, info)


def _text(text: str, info: FieldInfo, draw: _Draw) -> str:
    """Words, as long as the source (a line break kept where a long text had one)."""
    words: list[str] = []
    size = 0
    while size < len(text):
        word = draw.pick(WORDS)
        words.append(word)
        size += len(word) + 1
    out = " ".join(words)[: len(text)].rstrip() or draw.pick(WORDS)[: max(1, len(text))]
    return _fit(out[:1].upper() + out[1:], info)


def _address(text: str, info: FieldInfo, draw: _Draw) -> str:
    kind = _kind(info)
    if kind == "city":
        out = f"{draw.pick(FIRST)}{draw.pick(CITY_SUFFIXES)}"
        if draw.below(3) == 0:
            out = f"{draw.pick(CITY_PREFIXES)} {out}"
    elif kind == "state":
        out = draw.pick(STATES_ABBR if len(text) <= 3 else STATES)
    elif kind in ("zip", "postal", "post_code", "postcode"):
        out = _digits(text, draw)
    else:
        street = f"{100 + draw.below(9900)} {draw.pick(LAST)} {draw.pick(STREET_SUFFIXES)}"
        if info.type == FieldType.LONG_TEXT and "\n" in text:
            city = f"{draw.pick(FIRST)}{draw.pick(CITY_SUFFIXES)}"
            street += f"\n{city}, {draw.pick(STATES_ABBR)} {10000 + draw.below(89999)}"
        out = street
    return _fit(out, info)


_DIGIT = re.compile(r"\d")


def _digits(text: str, draw: _Draw) -> str:
    """The same shape with other digits (a phone, a postcode, an SSN): a leading zero stays one."""
    if not _DIGIT.search(text):
        return f"{draw.digit(nonzero=True)}{draw.below(10**8):08d}"[: max(len(text), 7)]
    first = True
    out = []
    for ch in text:
        if ch.isdigit():
            out.append(ch if first and ch == "0" else draw.digit(nonzero=first))
            first = False
        else:
            out.append(ch)
    return "".join(out)


def _number(value: Any, info: FieldInfo, draw: _Draw) -> Any:
    """As many digits as the source, its sign and decimal places, inside the field's range."""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    places = max(0, -int(number.as_tuple().exponent)) if info.type == FieldType.DECIMAL else 0
    whole = abs(int(number))
    size = len(str(whole))
    low = 10 ** (size - 1) if size > 1 else 0
    drawn = Decimal(low + draw.below(10**size - low))
    if places:
        drawn += Decimal(draw.below(10**places)) / (10**places)
    if number < 0:
        drawn = -drawn
    lo, hi = info.min_value, info.max_value
    if (lo is not None and drawn < Decimal(str(lo))) or (hi is not None and drawn > Decimal(str(hi))):
        bottom = Decimal(str(lo if lo is not None else 0))
        top = Decimal(str(hi if hi is not None else bottom + 10**size))
        span = int(top - bottom)
        drawn = bottom + (draw.below(span + 1) if span > 0 else 0)
    if isinstance(value, int) or info.type == FieldType.NUMBER:
        return int(drawn)
    return float(drawn) if isinstance(value, float) else str(drawn)


def _date(value: Any, draw: _Draw) -> Any:
    """Moved 1 to DATE_SHIFT_DAYS days, earlier or later; a datetime keeps its time and zone."""
    days = 1 + draw.below(DATE_SHIFT_DAYS)
    shift = dt.timedelta(days=days if draw.below(2) else -days)
    if isinstance(value, dt.date):
        return value + shift
    text = str(value)
    try:
        day = dt.date.fromisoformat(text[:10])
    except ValueError:
        return None  # not a date the rule can read: left empty, never kept
    return (day + shift).isoformat() + text[10:]
