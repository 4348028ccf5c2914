"""Value templates in override values: `{FIELD}` the record's own source value, `{today}` the date
(ISO), `{job}` the job's number, `{{` and `}}` literal braces. Pure: no Django, no I/O.

A template is parsed once (cached) into literal and placeholder parts, so rendering it for each of
10,000 records is a join, not a parse.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

TODAY, JOB = "today", "job"


class TemplateError(ValueError):
    pass


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{" in value or "}" in value)


@lru_cache(maxsize=1024)
def parse(text: str) -> tuple[tuple[bool, str], ...]:
    """(is_placeholder, text) parts. Raises TemplateError for an unmatched or empty brace."""
    parts: list[tuple[bool, str]] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "{}" and text[i : i + 2] in ("{{", "}}"):
            literal.append(ch)
            i += 2
        elif ch == "{":
            end = text.find("}", i + 1)
            name = text[i + 1 : end].strip() if end != -1 else ""
            if end == -1 or not name or "{" in name:
                raise TemplateError(f"Unmatched '{{' in {text!r}: write {{{{ for a literal brace.")
            if literal:
                parts.append((False, "".join(literal)))
                literal = []
            parts.append((True, name))
            i = end + 1
        elif ch == "}":
            raise TemplateError(f"Unmatched '}}' in {text!r}: write }}}} for a literal brace.")
        else:
            literal.append(ch)
            i += 1
    if literal:
        parts.append((False, "".join(literal)))
    return tuple(parts)


def placeholders(text: str) -> set[str]:
    """The field names a template reads (without today and job)."""
    return {name for is_ph, name in parse(text) if is_ph and name not in (TODAY, JOB)}


def render(value: Any, *, source: dict[str, Any], today: date, job: int | str) -> Any:
    """The value for one record. Not a string, or no braces: the value as given."""
    if not is_template(value):
        return value
    out = []
    for is_ph, text in parse(value):
        if not is_ph:
            out.append(text)
        elif text == TODAY:
            out.append(today.isoformat())
        elif text == JOB:
            out.append(str(job))
        else:
            out.append(_text(source.get(text)))
    return "".join(out)


def render_all(values: dict[str, Any], *, source: dict[str, Any], today: date, job: int | str) -> dict[str, Any]:
    return {k: render(v, source=source, today=today, job=job) for k, v in values.items()}


def _text(value: Any) -> str:
    # A lookup renders as its name (what a person reads), else its id; an empty field as "".
    if value is None:
        return ""
    if isinstance(value, dict):
        return str(value.get("name") or value.get("id") or "")
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)
