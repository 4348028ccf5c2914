"""A VQL subset: tokenizer, parser and evaluator (api-notes vault.md §3.3).

    SELECT item[, item...] FROM object
      [WHERE cond] [ORDER BY field [ASC|DESC][, ...]] [PAGESIZE n] [PAGEOFFSET n]
    item := field | rel__cr.field | (SELECT fields FROM inbound_rel__cr [WHERE] [ORDER BY])
    cond := term (AND|OR term)... ; term := (cond) | field op literal | field [NOT] IN (literals)
            | field [NOT] LIKE 'pat%' | field = null ;  op := = != <> < > <= >=

String literals are single-quoted with backslash escapes (\\' and \\\\), so a quote inside a
literal never ends it: injection attempts stay literal text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

KEYWORDS = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "PAGESIZE",
    "PAGEOFFSET",
    "LIMIT",
    "OFFSET",
    "NULL",
    "TRUE",
    "FALSE",
}
# One match a token; a string literal is read whole by the same match (up to its closing quote, a
# backslash escaping the next character), so a query of 1,000 quoted ids costs one regular
# expression a token: the emulator's CPU stretches every concurrent call it serves.
_TOKEN_RE = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)"
    r"|(?P<op><=|>=|!=|<>|[=<>(),*])|'(?P<str>[^'\\]*(?:\\.[^'\\]*)*)'|(?P<quote>'))",
    re.DOTALL,
)
_ESCAPED_RE = re.compile(r"\\(.)", re.DOTALL)


class VQLError(Exception):
    """→ INCORRECT_QUERY_SYNTAX_ERROR"""


@dataclass
class Token:
    kind: str  # num, ident, kw, op, str, end
    value: Any


def tokenize(q: str) -> list[Token]:
    tokens, pos, n = [], 0, len(q)
    match = _TOKEN_RE.match
    while pos < n:
        m = match(q, pos)
        if m is None:
            rest = q[pos:].lstrip()
            if not rest:
                break  # trailing spaces
            raise VQLError(f"Unexpected character [{rest[0]}] at position {n - len(rest)}")
        pos = m.end()
        kind = m.lastgroup
        if kind == "str":
            text = m.group("str")
            tokens.append(Token("str", _ESCAPED_RE.sub(r"\1", text) if "\\" in text else text))
        elif kind == "quote":
            raise VQLError("Unterminated string literal")
        else:
            tokens.append(_word_token(m))
    tokens.append(Token("end", None))
    return tokens


def _word_token(m: re.Match[str]) -> Token:
    kind, text = m.lastgroup, m.group(m.lastgroup or 0)
    if kind == "num":
        return Token("num", float(text) if "." in text else int(text))
    if kind == "ident":
        word = text.upper()
        return Token("kw", word) if word in KEYWORDS else Token("ident", text)
    return Token("op", text)


@dataclass
class Query:
    object: str  # the FROM object (the name shadows the builtin inside this class only)
    fields: list[str]
    subqueries: list[Query] = field(default_factory=list)
    where: Any = None
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    pagesize: int | None = None
    pageoffset: int | None = None
    select_order: list[Any] = field(default_factory=list)  # field names and Query items


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens, self.i = tokens, 0

    def peek(self, offset=0) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def next(self) -> Token:
        tok = self.peek()
        self.i += 1
        return tok

    def accept(self, kind, value=None) -> Token | None:
        tok = self.peek()
        if tok.kind == kind and (value is None or tok.value == value):
            self.i += 1
            return tok
        return None

    def expect(self, kind, value=None) -> Token:
        tok = self.accept(kind, value)
        if tok is None:
            got = self.peek()
            raise VQLError(f"Expected {value or kind} but found [{got.value if got.kind != 'end' else 'end of query'}]")
        return tok

    def query(self, *, sub=False) -> Query:
        self.expect("kw", "SELECT")
        items = [self.select_item(sub)]
        while self.accept("op", ","):
            items.append(self.select_item(sub))
        self.expect("kw", "FROM")
        q = Query(object=self.expect("ident").value, fields=[], select_order=items)
        for item in items:
            (q.subqueries if isinstance(item, Query) else q.fields).append(item)
        if self.accept("kw", "WHERE"):
            q.where = self.condition()
        if self.accept("kw", "ORDER"):
            q.order = self.order_by()
        if not sub:
            self.paging(q)
        return q

    def order_by(self) -> list[tuple[str, bool]]:
        self.expect("kw", "BY")
        order = []
        while True:
            name = self.expect("ident").value
            desc = bool(self.accept("kw", "DESC"))
            if not desc:
                self.accept("kw", "ASC")
            order.append((name, desc))
            if not self.accept("op", ","):
                return order

    def paging(self, q: Query) -> None:
        while self.peek().kind == "kw" and self.peek().value in ("PAGESIZE", "PAGEOFFSET", "LIMIT", "OFFSET"):
            kw = self.next().value
            value = self.expect("num").value
            if not isinstance(value, int) or value < 0:
                raise VQLError(f"{kw} must be a non-negative integer")
            if kw in ("PAGESIZE", "LIMIT"):
                q.pagesize = value
            else:
                q.pageoffset = value

    def select_item(self, sub: bool):
        if self.accept("op", "("):
            if sub:
                raise VQLError("Only one level of sub-query is supported")
            q = self.query(sub=True)
            self.expect("op", ")")
            return q
        return self.expect("ident").value

    def condition(self):
        node = self.conjunction()
        while self.accept("kw", "OR"):
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self):
        node = self.term()
        while self.accept("kw", "AND"):
            node = ("and", node, self.term())
        return node

    def term(self):
        if self.accept("op", "("):
            node = self.condition()
            self.expect("op", ")")
            return node
        name = self.expect("ident").value
        negate = bool(self.accept("kw", "NOT"))
        if self.accept("kw", "IN"):
            self.expect("op", "(")
            values = [self.literal()]
            tokens = self.tokens  # its last is "end": a literal never is, so the index stays inside
            while (tok := tokens[self.i]).kind == "op" and tok.value == ",":
                self.i += 1
                values.append(self.literal())
            self.expect("op", ")")
            return ("not_in" if negate else "in", name, values)
        if self.accept("kw", "LIKE"):
            pattern = self.literal()
            if not isinstance(pattern, str):
                raise VQLError("LIKE needs a string literal")
            return ("not_like" if negate else "like", name, pattern)
        if negate:
            raise VQLError("NOT must be followed by IN or LIKE")
        op = self.expect("op").value
        if op not in ("=", "!=", "<>", "<", ">", "<=", ">="):
            raise VQLError(f"Unknown operator [{op}]")
        return ("cmp", name, "!=" if op == "<>" else op, self.literal())

    def literal(self):
        tok = self.next()
        if tok.kind in ("str", "num"):
            return tok.value
        if tok.kind == "kw" and tok.value in ("NULL", "TRUE", "FALSE"):
            return {"NULL": None, "TRUE": True, "FALSE": False}[tok.value]
        raise VQLError(f"Expected a literal but found [{tok.value}]")


def parse(q: str) -> Query:
    if not q or not q.strip():
        raise VQLError("Missing query")
    parser = _Parser(tokenize(q))
    query = parser.query()
    if parser.peek().kind != "end":
        raise VQLError(f"Unexpected [{parser.peek().value}]")
    return query


# -- evaluation ------------------------------------------------------------------------------


def _like_regex(pattern: str) -> re.Pattern:
    return re.compile("^" + ".*".join(re.escape(p) for p in pattern.split("%")) + "$", re.I | re.S)


def compile_condition(node, getter):
    """Return a predicate over records; `getter(record, name)` resolves field names."""
    if node is None:
        return lambda rec: True
    kind = node[0]
    if kind in ("and", "or"):
        left, right = compile_condition(node[1], getter), compile_condition(node[2], getter)
        if kind == "and":
            return lambda rec: left(rec) and right(rec)
        return lambda rec: left(rec) or right(rec)
    name = node[1]
    if kind in ("in", "not_in"):
        wanted = set(node[2])
        # A field of the record itself is read from it directly (`getter` would do the same, a
        # call a record more: a query's `id IN` of 1,000 ids tests every record of the object).
        hit = partial(_is_in, getter, name, wanted) if "." in name else partial(_has_value_in, name, wanted)
        return hit if kind == "in" else (lambda rec: not hit(rec))
    if kind in ("like", "not_like"):
        rx = _like_regex(node[2])
        hit = lambda rec: any(isinstance(v, str) and rx.match(v) for v in _values(getter(rec, name)))  # noqa: E731
        return hit if kind == "like" else (lambda rec: not hit(rec))
    _, _, op, literal = node
    return _comparison(getter, name, op, literal)


def _comparison(getter, name, op, literal):
    """`name op literal`: a null literal tests for emptiness; a list field matches on any value."""
    if literal is None:
        if op == "=":
            return lambda rec: getter(rec, name) in (None, "", [])
        return lambda rec: getter(rec, name) not in (None, "", [])

    def compare(rec):
        for raw in _values(getter(rec, name)):
            v, literal_ = _comparable(raw, literal)
            try:
                if (
                    (op == "=" and v == literal_)
                    or (op == "!=" and v != literal_)
                    or (op == "<" and v < literal_)
                    or (op == ">" and v > literal_)
                    or (op == "<=" and v <= literal_)
                    or (op == ">=" and v >= literal_)
                ):
                    return True
            except TypeError:
                continue
        return False

    return compare


_DATETIME_RE = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\Z")


def _comparable(value, literal):
    """The pair as Vault compares it: a DateTime with a DateTime literal as instants ('...04.000Z'
    and '...04.5Z' are both valid, api-notes vault.md §3.3), a number (a user id such as
    created_by__v) with a quoted number as numbers; anything else as it is."""
    if (
        isinstance(value, str)
        and isinstance(literal, str)
        and _DATETIME_RE.match(value)
        and _DATETIME_RE.match(literal)
    ):
        try:
            return _instant(value), _instant(literal)
        except ValueError:
            return value, literal
    if isinstance(value, int | float) and not isinstance(value, bool) and isinstance(literal, str):
        try:
            return value, float(literal)
        except ValueError:
            return value, literal
    return value, literal


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text[:-1] + "+00:00")


def _is_in(getter, name, wanted: set, rec) -> bool:
    """Whether the record's value (any of a multi-value field's) is one of `wanted`."""
    value = getter(rec, name)
    if isinstance(value, list):
        return any(v in wanted for v in value)
    return value is not None and value in wanted


def _has_value_in(name: str, wanted: set, rec: dict) -> bool:
    """`_is_in` for a field of the record itself."""
    value = rec.get(name)
    if isinstance(value, list):
        return any(v in wanted for v in value)
    return value is not None and value in wanted


def _values(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def sort_key(value):
    if isinstance(value, list):
        value = value[0] if value else None
    return (value is None, str(type(value).__name__), value if value is not None else 0)
