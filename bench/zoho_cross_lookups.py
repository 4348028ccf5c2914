"""Scenario: a Zoho deep copy by query into a second org whose records reference more distinct
records outside the copy than one look-up holds. The source org gets N accounts "Bench Lookup Child
NNN", each with its own Parent_Account "Bench Lookup Parent NNN" and CONTACTS contacts; the target
org holds the same N parents under the same names (other ids). The copy deep-copies every child
(`--where` on the name, `--limit N`, `--deep`, `existing=create`) into the target. --quick: N = 120,
else 250 (both need more than one batch).

Counted in the target against the minimum: the parents looked up by name, 100 values a COQL `in`
(⌈N/100⌉), and the inserts, 100 a call per module and level over all the top records' trees
(⌈N/100⌉ accounts + ⌈CONTACTS·N/100⌉ contacts), not a call per top record. The source's calls (the
query, the trees, the parents' names) are shown, not gated. The setup (not counted) creates the
records through the connectors, 100 a call.
"""

from __future__ import annotations

import math
import re

from bench.common import Row, bench_user, create_job, na_rows, run_job, unavailable, zoho_profile
from bench.zoho_cross import LOOKUP_BATCH, counts, fresh_orgs
from bench.zoho_deep import DEFAULT_CONCURRENCY

NAME = "zoho_cross_lookups"
CHILD, PARENT = "Bench Lookup Child", "Bench Lookup Parent"
CONTACTS = 2  # per copied account: a second level of N·CONTACTS records under N top records
METRICS = [
    "target: look-ups vs minimum",
    "target: inserts vs minimum",
    "target: data calls vs minimum",
    "source: data calls",
]


def run(ctx) -> list[Row]:
    why = unavailable(ctx.sb, "zoho")
    if why:
        return na_rows(NAME, METRICS, why)
    from sandbox import Sandbox

    ctx.target_sb = Sandbox.start(vault_settings={"burst_sleep": False}, org="target")
    try:
        return _measure(ctx)
    finally:
        ctx.target_sb.stop()


def make_records(source, target, n: int) -> None:
    """N parents in both orgs under the same names; in the source N children, each pointing at its own."""
    names = [f"{PARENT} {i:03}" for i in range(n)]
    parents = [r.new_id for r in source.create("Accounts", [{"Account_Name": x} for x in names])]
    assert all(r.ok for r in target.create("Accounts", [{"Account_Name": x} for x in names]))
    children = [{"Account_Name": f"{CHILD} {i:03}", "Parent_Account": {"id": p}} for i, p in enumerate(parents)]
    made = source.create("Accounts", children)
    assert all(r.ok for r in made)
    contacts = [
        {"Last_Name": f"{CHILD} Contact {i:03}-{k}", "Account_Name": {"id": r.new_id}}
        for i, r in enumerate(made)
        for k in range(CONTACTS)
    ]
    for start in range(0, len(contacts), LOOKUP_BATCH):
        assert all(r.ok for r in source.create("Contacts", contacts[start : start + LOOKUP_BATCH]))


def _measure(ctx) -> list[Row]:
    from records.connectors import connector_for
    from records.copying.options import CopyOptions

    ctx.user = ctx.user or bench_user()
    fresh_orgs(ctx)
    source = zoho_profile(ctx.sb, ctx.user, concurrency=DEFAULT_CONCURRENCY, name="Bench lookups source")
    target = zoho_profile(ctx.target_sb, ctx.user, concurrency=DEFAULT_CONCURRENCY, name="Bench lookups target")
    n = 120 if ctx.quick else 250
    make_records(connector_for(source), connector_for(target), n)
    ctx.sb.clear_log("zoho")
    ctx.target_sb.clear_log("zoho")
    options = CopyOptions(existing="create", source_filter=f"(Account_Name:starts_with:{CHILD})", source_limit=n)
    job = run_job(create_job(ctx, source, "Accounts", [], "deep_copy", target=target, options=options))
    return rows_for(n, job, ctx.sb.log("zoho"), ctx.target_sb.log("zoho"))


def inserts(log) -> int:
    return sum(
        1 for e in log if e.method == "POST" and re.search(r"/crm/v\d+/(Accounts|Contacts)$", e.path.split("?")[0])
    )


def rows_for(n: int, job, source_log, target_log) -> list[Row]:
    lookups = sum(1 for e in target_log if e.path.split("?")[0].endswith("/coql"))
    batches = math.ceil(n / LOOKUP_BATCH)
    least_inserts = batches + math.ceil(CONTACTS * n / LOOKUP_BATCH)  # a call per 100 per module and level
    tgt, src = counts(target_log), counts(source_log)
    matched = ((job.plan or {}).get("cross") or {}).get("references", {}).get("Accounts", {}).get("matched", 0)
    what = f"{n} accounts copied with their contacts, {matched} of {n} distinct parents matched; job {job.status}, {job.failed_count} failed"
    return [
        _ratio_row("target: look-ups vs minimum", lookups, batches, f"minimum = ⌈{n}/100⌉ COQL; {what}"),
        _ratio_row(
            "target: inserts vs minimum",
            inserts(target_log),
            least_inserts,
            f"minimum = ⌈{n}/100⌉ accounts + ⌈{CONTACTS * n}/100⌉ contacts (100 a call per module and level)",
        ),
        _ratio_row(
            "target: data calls vs minimum",
            tgt["read"] + tgt["write"],
            batches + least_inserts,
            f"minimum = {batches} look-ups + {least_inserts} inserts; {tgt['read']} reads + {tgt['write']} writes",
        ),
        Row(
            NAME,
            "source: data calls",
            src["read"] + src["write"],
            None,
            None,
            "info",
            None,
            note=f"the query, {n} trees' reads, ⌈{n}/100⌉ reads of the parents' names",
        ),
    ]


def _ratio_row(metric: str, calls: int, minimum: int, note: str) -> Row:
    ratio = calls / minimum if minimum else None
    ok = ratio is not None and ratio <= 1.10
    return Row(NAME, metric, calls, minimum, round(ratio, 2) if ratio else None, "<= 1.10 x min", ok, True, note)
