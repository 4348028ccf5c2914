"""Search criteria (§4.3) and the COQL subset (§4.4) of the Zoho CRM emulator.

Both compile to a predicate over stored records. Lookups compare by id (or, for search, by the
looked-up record's name); `Lookup.Field` in COQL follows one lookup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

Predicate = Callable[[dict], bool]


class QueryError(Exception):
    def __init__(self, code: str, message: str, **details):
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


# -- search criteria: ((Field:operator:value)and(...)) ---------------------------------------------

SEARCH_OPERATORS = {
    "equals",
    "not_equal",
    "starts_with",
    "in",
    "greater_than",
    "greater_equal",
    "less_than",
    "less_equal",
    "between",
}


def parse_criteria(text: str, value_of: Callable[[dict, str], list], *, equals_contains: bool) -> Predicate:
    """Compile a §4.3 criteria string; `value_of(rec, field)` gives the comparable strings of a field."""
    return _CriteriaParser(text, value_of, equals_contains).parse()


class _CriteriaParser:
    """Reads criteria left to right: `pos` is where it is in `text`, `count` the criteria so far."""

    def __init__(self, text: str, value_of: Callable[[dict, str], list], equals_contains: bool):
        self.text, self.value_of, self.equals_contains = text, value_of, equals_contains
        self.pos = 0
        self.count = 0

    def parse(self) -> Predicate:
        result = self.expr()
        if self.text[self.pos :].strip():
            raise QueryError("INVALID_QUERY", "invalid query formed", reason="trailing text")
        return result

    def expr(self) -> Predicate:
        preds, ops = [self.term()], []
        while True:
            m = re.compile(r"\s*(and|or)\s*", re.I).match(self.text, self.pos)
            if not m:
                break
            self.pos = m.end()
            ops.append(m.group(1).lower())
            preds.append(self.term())
        result = preds[0]
        for op, p in zip(ops, preds[1:], strict=True):
            result = _and(result, p) if op == "and" else _or(result, p)
        return result

    def term(self) -> Predicate:
        text = self.text
        if self.pos >= len(text) or text[self.pos] != "(":
            raise QueryError("INVALID_QUERY", "invalid query formed", reason="expected (")
        if text[self.pos + 1 : self.pos + 2] == "(":
            return self.group()
        field, op, value = self.criterion()
        self.count += 1
        if self.count > 10:
            raise QueryError("LIMIT_EXCEEDED", "maximum 10 criteria allowed", by="criteria", limit=10)
        if op not in SEARCH_OPERATORS:
            raise QueryError("INVALID_QUERY", "invalid operator found", operator=op)
        return _criterion(field, op, value, self.value_of, self.equals_contains)

    def group(self) -> Predicate:
        self.pos += 1
        inner = self.expr()
        if self.pos >= len(self.text) or self.text[self.pos] != ")":
            raise QueryError("INVALID_QUERY", "invalid query formed", reason="expected )")
        self.pos += 1
        return inner

    def criterion(self) -> tuple[str, str, str]:
        """One (field:operator:value) with backslash escapes in the value."""
        text = self.text
        self.pos += 1
        buf: list[str] = []
        parts: list[str] = []
        while self.pos < len(text) and text[self.pos] != ")":
            ch = text[self.pos]
            if ch == "\\" and self.pos + 1 < len(text):
                buf.append(text[self.pos + 1])
                self.pos += 2
                continue
            if ch == ":" and len(parts) < 2:
                parts.append("".join(buf))
                buf = []
            else:
                buf.append(ch)
            self.pos += 1
        if self.pos >= len(text) or len(parts) != 2:
            raise QueryError("INVALID_QUERY", "invalid query formed", reason="expected (field:operator:value)")
        self.pos += 1
        return parts[0].strip(), parts[1].strip().lower(), "".join(buf)


def _and(a, b):
    return lambda r: a(r) and b(r)


def _or(a, b):
    return lambda r: a(r) or b(r)


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def _criterion(field, op, value, value_of, equals_contains) -> Predicate:
    wanted = value.lower()

    def pred(rec):
        have = [h.lower() for h in value_of(rec, field)]
        if op == "equals":
            # §4.3: "equals" on text behaves like "contains" [DOC]; a setting turns it exact.
            return any((wanted in h) if equals_contains else (h == wanted) for h in have)
        if op == "not_equal":
            return all(h != wanted for h in have)
        if op == "starts_with":
            return any(h.startswith(wanted) for h in have)
        if op == "in":
            options = {v.strip().lower() for v in value.split(",")}
            return any(h in options for h in have)
        if op == "between":
            low, _, high = value.partition(",")
            return any(_num(low) <= _num(h) <= _num(high) for h in have if _comparable(h, low))
        cmp = {
            "greater_than": lambda h: _num(h) > _num(value),
            "greater_equal": lambda h: _num(h) >= _num(value),
            "less_than": lambda h: _num(h) < _num(value),
            "less_equal": lambda h: _num(h) <= _num(value),
        }[op]
        return any(cmp(h) for h in have if _comparable(h, value))

    return pred


def _comparable(a, b) -> bool:
    return isinstance(_num(a), float) == isinstance(_num(b), float)


# -- COQL -----------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>>=|<=|!=|=|<|>|\(|\)|,)"
    r"|(?P<word>[A-Za-z_$][A-Za-z0-9_$.]*(?:->[A-Za-z_]+\.[A-Za-z0-9_]+)?))"
)


def tokenize(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip().rstrip(";")
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise QueryError("SYNTAX_ERROR", f"syntax error near {text[pos : pos + 20]!r}", near=text[pos : pos + 20])
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out.append((kind, value))
        pos = m.end()
    return out


class Coql:
    """A parsed `select … from … [where …] [order by …] [limit n [offset m]]`."""

    def __init__(self, text: str):
        self.toks = tokenize(text)
        self.i = 0
        self.columns: list[str] = []
        self.count_of = ""  # select COUNT(column): the column
        self.module = ""
        self.where = None  # a tree: ("and"|"or", a, b) | ("cmp", field, op, value)
        self.order: list[tuple[str, bool]] = []
        self.limit, self.offset = 200, 0  # §4.4 default LIMIT 200
        self._parse()

    # token helpers
    def _peek(self, ahead=0):
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else ("eof", "")

    def _kw(self, word) -> bool:
        kind, value = self._peek()
        if kind == "word" and value.lower() == word:
            self.i += 1
            return True
        return False

    def _expect_kw(self, word):
        if not self._kw(word):
            raise QueryError("SYNTAX_ERROR", f"expected {word}", near=self._peek()[1])

    def _expect_op(self, op):
        if self._peek() != ("op", op):
            raise QueryError("SYNTAX_ERROR", f"expected {op}", near=self._peek()[1])
        self.i += 1

    def _parse(self):
        self._expect_kw("select")
        self._columns()
        self._expect_kw("from")
        kind, value = self._peek()
        if kind != "word":
            raise QueryError("SYNTAX_ERROR", "expected a module", near=value)
        self.module = value
        self.i += 1
        if self._kw("where"):
            self.where = self._or()
        if self._kw("order"):
            self._order_by()
        if self._kw("limit"):
            self._limit()
        if self._peek()[0] != "eof":
            raise QueryError("SYNTAX_ERROR", "unexpected text", near=self._peek()[1])

    def _columns(self):
        if self._peek()[0] == "word" and self._peek(1) == ("op", "("):
            self._aggregate()
            return
        while True:
            kind, value = self._peek()
            if kind != "word":
                raise QueryError("SYNTAX_ERROR", "expected a column", near=value)
            self.columns.append(value)
            self.i += 1
            if self._peek() == ("op", ","):
                self.i += 1
                continue
            break

    def _aggregate(self):
        # COQL's aggregate functions (COQL overview: SUM, MAX, MIN, AVG, COUNT); the emulator
        # knows COUNT(column) alone, answered as one row {"COUNT(column)": n}.
        func = self._peek()[1]
        if func.upper() != "COUNT":
            raise QueryError("SYNTAX_ERROR", f"unsupported function {func}", near=func)
        self.i += 2
        kind, column = self._peek()
        if kind != "word":
            raise QueryError("SYNTAX_ERROR", "expected a column", near=column)
        self.i += 1
        self._expect_op(")")
        self.count_of = column

    def _order_by(self):
        self._expect_kw("by")
        while True:
            kind, value = self._peek()
            self.i += 1
            desc = self._kw("desc")
            if not desc:
                self._kw("asc")
            self.order.append((value, desc))
            if self._peek() == ("op", ","):
                self.i += 1
                continue
            break

    def _limit(self):
        first = self._int()
        if self._peek() == ("op", ","):  # limit offset, count
            self.i += 1
            self.offset, self.limit = first, self._int()
        else:
            self.limit = first
            if self._kw("offset"):
                self.offset = self._int()

    def _int(self) -> int:
        kind, value = self._peek()
        if kind != "num" or "." in value:
            raise QueryError("SYNTAX_ERROR", "expected a number", near=value)
        self.i += 1
        return int(value)

    def _or(self):
        left = self._and()
        while self._kw("or"):
            left = ("or", left, self._and())
        return left

    def _and(self):
        left = self._atom()
        while self._kw("and"):
            left = ("and", left, self._atom())
        return left

    def _in_values(self) -> list:
        self._expect_op("(")
        values = []
        while True:
            values.append(self._value())
            if self._peek() == ("op", ","):
                self.i += 1
                continue
            break
        self._expect_op(")")
        if len(values) > 100:  # KAIZEN183: 100 values in `in` (v7)
            raise QueryError("LIMIT_EXCEEDED", "too many values in in clause", by="in", limit=100)
        return values

    def _atom(self):
        if self._peek() == ("op", "("):
            self.i += 1
            inner = self._or()
            self._expect_op(")")
            return inner
        kind, field = self._peek()
        if kind != "word":
            raise QueryError("SYNTAX_ERROR", "expected a field", near=field)
        self.i += 1
        if self._kw("is"):
            negate = self._kw("not")
            self._expect_kw("null")
            return ("cmp", field, "is not null" if negate else "is null", None)
        negate = self._kw("not")
        if self._kw("in"):
            return ("cmp", field, "not in" if negate else "in", self._in_values())
        if self._kw("like"):
            return ("cmp", field, "not like" if negate else "like", self._value())
        if negate:
            raise QueryError("SYNTAX_ERROR", "expected in or like after not", near=self._peek()[1])
        kind, op = self._peek()
        if kind != "op" or op not in ("=", "!=", "<", ">", "<=", ">="):
            raise QueryError("SYNTAX_ERROR", "expected an operator", near=op)
        self.i += 1
        return ("cmp", field, op, self._value())

    def _value(self):
        kind, value = self._peek()
        self.i += 1
        if kind == "str":
            return value
        if kind == "num":
            return float(value) if "." in value else int(value)
        if kind == "word" and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if kind == "word" and value.lower() == "null":
            return None
        raise QueryError("SYNTAX_ERROR", "expected a value", near=value)

    def predicate(self, get: Callable[[dict, str], object]) -> Predicate:
        """Compile the WHERE tree; `get(rec, field)` returns a comparable scalar (ids for lookups)."""

        def build(node):
            if node is None:
                return lambda r: True
            if node[0] in ("and", "or"):
                a, b = build(node[1]), build(node[2])
                return _and(a, b) if node[0] == "and" else _or(a, b)
            _, field, op, value = node
            if op in ("in", "not in"):
                return _membership(get, field, op == "in", value)
            return lambda r: _compare(get(r, field), op, value)

        return build(self.where)


def _membership(get: Callable[[dict, str], object], field: str, wanted: bool, values: list) -> Predicate:
    """`field in (...)` with its sets made once, not per record (a query over 100,000 records);
    the same answer as _compare's."""
    as_text = {_norm(str(v) if isinstance(v, (int, float)) else v) for v in values}  # a text field's
    as_is = {_norm(v) for v in values}

    def pred(rec):
        have = get(rec, field)
        return (_norm(have) in (as_text if isinstance(have, str) else as_is)) == wanted

    return pred


_DATETIME_RE = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)\Z")


def _instants(have, value):
    """Two datetimes (`2026-12-06T02:03:04+05:30`, §3.1 value formats) compared as instants, whatever
    their offsets (COQL compares datetime fields with =, !=, <, <=, >, >=); anything else unchanged."""
    if isinstance(have, str) and isinstance(value, str) and _DATETIME_RE.match(have) and _DATETIME_RE.match(value):
        try:
            return (
                datetime.fromisoformat(have.replace("Z", "+00:00")),
                datetime.fromisoformat(value.replace("Z", "+00:00")),
            )
        except ValueError:
            pass
    return have, value


def _norm(v):
    if isinstance(v, str):
        return v.lower()
    return v


def _compare(have, op, value) -> bool:
    if op == "is null":
        return have in (None, "", [])
    if op == "is not null":
        return have not in (None, "", [])
    if op in ("in", "not in"):
        options = {_norm(str(v) if isinstance(v, (int, float)) and isinstance(have, str) else v) for v in value}
        inside = _norm(have) in options
        return inside if op == "in" else not inside
    if op in ("like", "not like"):
        pattern = "^" + ".*".join(re.escape(p) for p in str(value).lower().split("%")) + "$"
        match = have is not None and re.match(pattern, str(have).lower()) is not None
        return match if op == "like" else not match
    if isinstance(value, (int, float)) and isinstance(have, str):
        value = str(value)
    have, value = _instants(have, value)
    if op == "=":
        return _norm(have) == _norm(value)
    if op == "!=":
        return _norm(have) != _norm(value)
    if have is None or value is None:
        return False
    try:
        return {"<": have < value, ">": have > value, "<=": have <= value, ">=": have >= value}[op]
    except TypeError:
        return False
