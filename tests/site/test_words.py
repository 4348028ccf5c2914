"""Numbers and times read alike everywhere: separators, the zone, no "a.m."."""

from __future__ import annotations

import datetime as dt

from django.template import Context, Template

from records.lib import words

WHEN = dt.datetime(2026, 1, 5, 1, 11, 7, tzinfo=dt.UTC)


def test_count_has_thousands_separators() -> None:
    assert words.count(10202) == "10,202"
    assert words.count(7) == "7"
    assert words.count(None) == ""


def test_moment_has_minutes_and_the_zone() -> None:
    assert words.moment(WHEN) == "2026-01-05 01:11 UTC"
    assert words.moment(None) == ""


def test_clock_has_seconds_and_the_zone() -> None:
    assert words.clock(WHEN) == "01:11:07 UTC"


def test_naive_times_are_read_as_utc() -> None:
    assert words.clock(WHEN.replace(tzinfo=None)) == "01:11:07 UTC"


def test_template_filters_use_the_same_words() -> None:
    template = Template("{% load records_extras %}{{ n|num }} · {{ t|moment }} · {{ t|clock }} · {{ s|num }}")
    out = template.render(Context({"n": 10202, "t": WHEN, "s": "x"}))
    assert out == "10,202 · 2026-01-05 01:11 UTC · 01:11:07 UTC · x"
