"""A person's Zoho search criteria, checked and run as a COQL condition (a copy by query).

The criteria are written as for Zoho's search (`((Industry:equals:Retail)and(Employees:greater_than:50))`,
api-notes zoho.md §4.3: operators, `\\` escapes of `( ) ,` and backslash), but run as COQL (§4.4):
COQL is exact and reads records written a moment ago, while search's `equals` behaves like
*contains* on text and misses records its index has not caught up with. So `equals` here means
equal. Field names are checked against the module's fields and every value goes through
`coql_literal`, so the text can never add a clause of its own.
"""

from __future__ import annotations

from collections.abc import Mapping

from records.connectors import zoho_parse as zp
from records.connectors.base import FieldInfo, FieldType
from records.connectors.errors import Rejected

MAX_CONDITIONS = 25  # §4.4: COQL takes up to 25 criteria
NUMERIC = frozenset({FieldType.NUMBER, FieldType.DECIMAL})
COMPARE = {
    "equals": "=",
    "not_equal": "!=",
    "greater_than": ">",
    "greater_equal": ">=",
    "less_than": "<",
    "less_equal": "<=",
}
# Operators whose value is a list separated by unescaped commas, and how many values each takes.
LISTS = {"in": (1, 100), "between": (2, 2)}  # §4.3: `in` ≤ 100 values


def refused(message: str) -> Rejected:
    return Rejected(message, error_type="INVALID_FILTER")


class _Reader:
    """Reads `expr := group ((and|or) group)*`, `group := ( expr ) | ( field:operator:value )`,
    building the COQL condition as it goes; binary parts are parenthesised (COQL wants explicit
    grouping beyond two criteria)."""

    def __init__(self, text: str, fields: Mapping[str, FieldInfo]):
        self.text, self.fields, self.pos, self.conditions = text, fields, 0, 0

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def at(self, word: str) -> bool:
        self.skip_spaces()
        if self.text[self.pos : self.pos + len(word)].lower() == word:
            self.pos += len(word)
            return True
        return False

    def expect(self, char: str) -> None:
        if not self.at(char):
            raise refused(f"The criteria expect {char!r} at position {self.pos + 1}.")

    def expression(self) -> tuple[str, bool]:
        """The condition, and whether it joins several (then it is parenthesised inside another)."""
        out, compound = self.group()
        while True:
            joiner = "and" if self.at("and") else "or" if self.at("or") else ""
            if not joiner:
                return out, compound
            right, right_compound = self.group()
            out = f"{_grouped(out, compound)} {joiner} {_grouped(right, right_compound)}"
            compound = True

    def group(self) -> tuple[str, bool]:
        self.expect("(")
        self.skip_spaces()
        inner = self.expression() if self.text.startswith("(", self.pos) else self.criterion()
        self.expect(")")
        return inner

    def criterion(self) -> tuple[str, bool]:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise refused(f"The criteria have more than {MAX_CONDITIONS} conditions.")
        name = self.word()
        self.expect(":")
        op = self.word().lower()
        self.expect(":")
        info = self.fields.get(name)
        if info is None:
            raise refused(f"The module has no field {name!r}.")
        return coql_condition(info, op, self.values()), op == "between"

    def word(self) -> str:
        self.skip_spaces()
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] == "_"):
            self.pos += 1
        if start == self.pos:
            raise refused(f"The criteria expect a name at position {start + 1}.")
        return self.text[start : self.pos]

    def values(self) -> list[str]:
        """The value up to the closing parenthesis, split at unescaped commas, escapes undone."""
        values, chars = [], []
        while self.pos < len(self.text) and self.text[self.pos] != ")":
            c = self.text[self.pos]
            if c == "\\" and self.pos + 1 < len(self.text):
                chars.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if c == ",":
                values.append("".join(chars))
                chars = []
            else:
                chars.append(c)
            self.pos += 1
        values.append("".join(chars))
        return values


def coql_condition(info: FieldInfo, op: str, values: list[str]) -> str:
    """One criterion as COQL: `field op literal`."""
    name = zp.check_name(info.name)
    count = LISTS.get(op, (1, 1))
    if not count[0] <= len(values) <= count[1]:
        raise refused(
            f"{op} on {name} takes {_how_many(count)}, separated by commas (write \\, for a comma in a value)."
        )
    literals = [literal(info, v) for v in values]
    if op in COMPARE:
        return f"{name} {COMPARE[op]} {literals[0]}"
    if op == "starts_with":
        # A % or _ in the value would act as a wildcard of `like`: [UNCONFIRMED whether COQL
        # lets them be escaped], so they are refused rather than guessed at.
        if any(c in values[0] for c in "%_"):
            raise refused("starts_with cannot take % or _ in its value.")
        return f"{name} like {zp.coql_literal(values[0].strip() + '%')}"
    if op == "in":
        return f"{name} in ({', '.join(literals)})"
    if op == "between":
        return f"{name} >= {literals[0]} and {name} <= {literals[1]}"
    raise refused(f"Unknown operator {op!r}: use {', '.join([*COMPARE, 'starts_with', *LISTS])}.")


def _grouped(condition: str, compound: bool) -> str:
    return f"({condition})" if compound else condition


def _how_many(count: tuple[int, int]) -> str:
    return f"{count[0]} values" if count[0] == count[1] else f"{count[0]} to {count[1]} values"


def literal(info: FieldInfo, raw: str) -> str:
    """A criteria value as a COQL literal of the field's kind: numbers bare, booleans as words,
    everything else (text, dates, picklist values, lookup ids) quoted by coql_literal."""
    value = raw.strip()
    if info.type in NUMERIC:
        return _number(info.name, value)
    if info.type == FieldType.BOOLEAN:
        if value.lower() not in ("true", "false"):
            raise refused(f"{info.name} is true or false.")
        return value.lower()
    return zp.coql_literal(value)


def _number(name: str, value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        raise refused(f"{name} takes a number, not {value!r}.") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise refused(f"{name} takes a number, not {value!r}.")
    return str(int(value)) if value.lstrip("-").isdigit() else repr(number)


def criteria_to_coql(text: str, fields: Mapping[str, FieldInfo]) -> str:
    """The criteria `text` as a COQL condition on a module with `fields` ("" when empty);
    Rejected (INVALID_FILTER) saying what is wrong when they don't parse."""
    text = (text or "").strip()
    if not text:
        return ""
    if not text.startswith("("):
        text = f"({text})"  # one criterion may be written without its parentheses
    reader = _Reader(text, fields)
    condition, _ = reader.expression()
    reader.skip_spaces()
    if reader.pos != len(text):
        raise refused(f"The criteria have text after their end at position {reader.pos + 1}.")
    return condition


def criteria_value(text: str) -> str:
    """§4.3: escape ( ) , and backslash in a search criteria value (requests URL-encodes it)."""
    out = []
    for c in text:
        out.append("\\" + c if c in "(),\\" else c)
    return "".join(out)
