"""A person's VQL `WHERE` filter, checked and rebuilt before it reaches Vault (a copy by query).

Only a filter on the object's own fields gets through: names of its fields, literals, the
comparison operators, `IN`, `LIKE`, `NOT IN`, `NOT LIKE`, `AND`, `OR` and parentheses. Every name
is rebuilt with `vql_name` and every string with `vql_string`, so the text can never add a
`SELECT`, `FROM`, `PAGESIZE`, a relationship (`product__vr.name__v`) or a sub-query; the copier
adds `SELECT … FROM … ORDER BY … PAGESIZE` itself. Grammar: api-notes vault.md §3.3.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from records.connectors import vault_parse as vp
from records.connectors.errors import Rejected

_TOKEN = re.compile(
    r"\s*(?:(?P<quote>')|(?P<num>-?\d+(?:\.\d+)?)(?![A-Za-z_])|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|!=|<>|[=<>(),]))"
)
COMPARISONS = frozenset({"=", "!=", "<>", "<", ">", "<=", ">="})
CONSTANTS = frozenset({"TRUE", "FALSE", "NULL"})
MAX_CONDITIONS = 50  # far below the statement length Vault takes; a copy filter is short


def refused(message: str) -> Rejected:
    return Rejected(message, error_type="INVALID_FILTER")


@dataclass(frozen=True)
class Token:
    kind: str  # word, num, str, op, end
    text: str


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise refused(f"The filter cannot be read near {text[pos : pos + 15].strip()!r}.")
        if m.group("quote"):
            value, pos = _string(text, m.end())
            tokens.append(Token("str", value))
            continue
        kind = m.lastgroup or ""
        tokens.append(Token(kind, m.group(kind)))
        pos = m.end()
    tokens.append(Token("end", ""))
    return tokens


def _string(text: str, pos: int) -> tuple[str, int]:
    """The value of the quoted literal starting at `pos` (after its quote), backslash escapes
    undone, and the position after its closing quote."""
    chars: list[str] = []
    while pos < len(text):
        c = text[pos]
        if c == "\\" and pos + 1 < len(text):
            chars.append(text[pos + 1])
            pos += 2
        elif c == "'":
            return "".join(chars), pos + 1
        else:
            chars.append(c)
            pos += 1
    raise refused("A quoted value in the filter is not closed.")


class _Rebuilder:
    """Reads the tokens as `cond := term ((AND|OR) term)*`, `term := ( cond ) | field op literal |
    field [NOT] IN (literal, …) | field [NOT] LIKE 'text'`, writing each part back out safely."""

    def __init__(self, tokens: list[Token], fields: Collection[str]):
        self.tokens, self.fields, self.i, self.conditions = tokens, fields, 0, 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token.kind == "word" and token.text.upper() == word:
            self.take()
            return True
        return False

    def expect_op(self, op: str) -> None:
        if self.take() != Token("op", op):
            raise refused(f"The filter expects {op!r} there.")

    def condition(self) -> str:
        out = self.term()
        while True:
            joiner = "AND" if self.keyword("AND") else "OR" if self.keyword("OR") else ""
            if not joiner:
                return out
            out = f"{out} {joiner} {self.term()}"

    def term(self) -> str:
        if self.peek() == Token("op", "("):
            self.take()
            inner = self.condition()
            self.expect_op(")")
            return f"({inner})"
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise refused(f"The filter has more than {MAX_CONDITIONS} conditions.")
        name = self.field()
        negated = "NOT " if self.keyword("NOT") else ""
        if self.keyword("IN"):
            return f"{name} {negated}IN ({self.literals()})"
        if self.keyword("LIKE"):
            pattern = self.take()
            if pattern.kind != "str":
                raise refused("LIKE takes a quoted pattern, such as 'Cardio%'.")
            return f"{name} {negated}LIKE {vp.vql_string(pattern.text)}"
        if negated:
            raise refused("NOT is only taken before IN or LIKE.")
        op = self.take()
        if op.kind != "op" or op.text not in COMPARISONS:
            raise refused(f"Expected a comparison (= != < > <= >=, IN, LIKE) after {name}.")
        return f"{name} {op.text} {self.literal()}"

    def field(self) -> str:
        token = self.take()
        if token.kind != "word" or token.text.upper() in CONSTANTS:
            raise refused("Each condition of the filter starts with a field name.")
        if token.text not in self.fields:
            raise refused(f"The object has no field {token.text!r}; only its own fields can be filtered on.")
        return vp.vql_name(token.text)

    def literal(self) -> str:
        token = self.take()
        if token.kind == "str":
            return vp.vql_string(token.text)
        if token.kind == "num":
            return token.text
        if token.kind == "word" and token.text.upper() in CONSTANTS:
            return token.text.upper()
        raise refused("Values in the filter are quoted text ('active__v'), numbers, true, false or null.")

    def literals(self) -> str:
        self.expect_op("(")
        values = [self.literal()]
        while self.peek() == Token("op", ","):
            self.take()
            values.append(self.literal())
        self.expect_op(")")
        return ", ".join(values)


def rebuild_where(text: str, fields: Collection[str]) -> str:
    """The filter `text` as a safe VQL condition on an object with `fields` ("" for an empty
    filter); Rejected (INVALID_FILTER) saying what is wrong when it is not such a filter."""
    tokens = tokenize(text or "")
    if tokens[0].kind == "end":
        return ""
    reader = _Rebuilder(tokens, fields)
    condition = reader.condition()
    if reader.peek().kind != "end":
        left = reader.peek().text
        raise refused(f"The filter has more than one condition without AND/OR, or a clause it cannot take ({left!r}).")
    return condition
