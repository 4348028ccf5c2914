"""Cells a spreadsheet program would run as a formula (CSV injection), for both CSV files the app
writes: a job's results and the bulk clone's template."""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """The value as text a spreadsheet shows as it is: a formula's first character is quoted."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text
