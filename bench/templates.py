"""Scenario: the CPU cost of value templates per record (target < 0.1 ms).

What the engine does for each copied record of an object with choices: choices.record_values over
a top-record-like override set (a field template, {today}, {job}, braces) plus a per-object set
and a lineage stamp. Timed with process CPU time over many records; no I/O, no sandbox.
"""

from __future__ import annotations

import time
from datetime import date

from bench.common import Row

NAME = "templates"
TARGET_MS = 0.1


def run(ctx) -> list[Row]:
    from records.copying import choices
    from records.copying.options import CopyOptions

    n = ctx.scale(100_000, 10_000)
    options = CopyOptions(
        fields={"Contacts": {"Last_Name": "{Last_Name} (test {{{job}}})", "Title": None}},
        lineage={"Contacts": "Description"},
    )
    values = {"Description_2": "copied {today} from {First_Name} {Last_Name}"}
    sources = [
        {"First_Name": f"Ann{i}", "Last_Name": f"Lee{i}", "Account_Name": {"id": "1", "name": "Acme"}}
        for i in range(1000)
    ]
    today = date(2026, 12, 1)
    start = time.process_time()
    for i in range(n):
        choices.record_values(
            values=values,
            options=options,
            object_name="Contacts",
            source_id=str(i),
            source=sources[i % 1000],
            today=today,
            job=42,
        )
    ms = (time.process_time() - start) * 1000 / n
    return [
        Row(
            NAME,
            f"CPU ms per record, {n:,} records (3 templates, a clear, a lineage stamp)",
            round(ms, 4),
            None,
            None,
            f"< {TARGET_MS}",
            ms < TARGET_MS,
        )
    ]
