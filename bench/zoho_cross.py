"""Scenario: a Zoho deep copy of "Big Account" from the sandbox org into a second, "target" org
(`Sandbox.start(org="target")`, sandbox/target_org.py), then the same copy again with
`existing=skip`. --quick: "Acme Corp".

Calls are counted in each org against the minimum. Source: the tree's reads as scenario 1 counts
them (`zoho_deep.minimum_calls`), plus the key values of the references outside the tree, read
in batches of 100. Target: the look-ups of those references, 100 values a COQL `in`; the inserts,
one per 100 records of a module and wave (the top record too: no clone action across orgs); the
second pass's updates. The re-run adds, in the target, one read per 100 records of each module
found there (the ledger's records are read once to see that they still exist), and no writes.
Users (`/users`) and the org's id (`/org`, read once per profile) are org metadata here, as the
describes are.

So that the copy has a reference to match, the setup (not counted) creates a parent account in
both orgs under the same name and points the copied account's Parent_Account at it.
"""

from __future__ import annotations

import math
from collections import Counter

from bench.common import NOT_AVAILABLE, Row, Timer, bench_user, create_job, na_rows, run_job, unavailable, zoho_profile
from bench.zoho_deep import ACCOUNT, DEFAULT_CONCURRENCY, account_id, fresh_zoho, minimum_calls

NAME = "zoho_cross_copy"
LOOKUP_BATCH = 100  # values per COQL `in` (Zoho's limit for `in`), and ids per read by ids
REFERENCE = "Bench Parent Account"
METRICS = ["source: data calls vs minimum", "target: data calls vs minimum", "re-run (skip): target data calls"]


def classify(entry) -> str:
    path = entry.path.split("?")[0]
    if "/oauth/" in path:
        return "auth"
    if "/settings/" in path or path.endswith(("/users", "/org")):
        return "metadata"
    return "write" if entry.method in ("POST", "PUT", "PATCH", "DELETE") and not path.endswith("/coql") else "read"


def counts(log) -> Counter:
    return Counter(classify(e) for e in log)


def tree_shape(conn, root_id: str, max_depth: int) -> tuple[list, dict[str, list[str]]]:
    """The tree's levels as zoho_deep.minimum_calls takes them, read without writing anything,
    and the ids of its records by module."""
    seen, ids = {("Accounts", root_id)}, {"Accounts": [root_id]}
    levels, level = [], {"Accounts": [root_id]}
    for _depth in range(max_depth):
        shape, next_level = [], {}
        for parent_module, parent_ids in level.items():
            for related in [r for r in conn.related_lists(parent_module) if r.deep_copy]:
                per_parent = []
                for pid in parent_ids:
                    children = list(conn.children(related, [pid]))
                    per_parent.append(len(children))
                    for child in children:
                        key = (child.object_name or related.child_object, child.id)
                        if key not in seen:
                            seen.add(key)
                            next_level.setdefault(key[0], []).append(child.id)
                            ids.setdefault(key[0], []).append(child.id)
                shape.append((related.name, related.child_object, related.parent_field, per_parent))
        levels.append(shape)
        level = next_level
        if not level:
            break
    return levels, ids


def add_reference(source, target, root_id: str) -> int:
    """A parent account in both orgs (same name, other ids) and the copied account's
    Parent_Account at it in the source: a reference outside the tree to match. (The deals'
    Account_Name would give more, but it decides which deals the tree holds: Zoho's deep copy
    reads two levels, and deals found only below a contact lose their own tasks and notes.)
    Returns how many distinct records are referenced."""
    made = [conn.create("Accounts", [{"Account_Name": REFERENCE}])[0].new_id for conn in (source, target)]
    source.update("Accounts", [{"id": root_id, "Parent_Account": {"id": made[0]}}])
    return 1


def fresh_orgs(ctx) -> None:
    """Both orgs fresh. The target lacks the Deals' Stage value "Negotiation" (a schema difference
    the preview lists; those deals would fail as Stage is required): the benchmark measures the
    copy, so it gives the target that value in memory."""
    fresh_zoho(ctx.sb, ctx.latency)
    fresh_zoho(ctx.target_sb, ctx.latency)
    stage = next(f for f in ctx.target_sb.zoho.state.modules["Deals"].fields if f["api_name"] == "Stage")
    source = next(f for f in ctx.sb.zoho.state.modules["Deals"].fields if f["api_name"] == "Stage")
    stage["pick_list_values"] = [dict(v) for v in source["pick_list_values"]]


def copy_once(ctx, source, target, root_id: str, existing: str) -> dict:
    from records.copying.options import CopyOptions

    sb, tsb = ctx.sb, ctx.target_sb
    sb.clear_log("zoho")
    tsb.clear_log("zoho")
    options = CopyOptions(existing=existing)
    with Timer() as plan:
        job = create_job(ctx, source, "Accounts", [root_id], "deep_copy", target=target, options=options)
    with Timer() as run:
        job = run_job(job)
    seconds = {"seconds": plan.seconds + run.seconds, "plan_s": plan.seconds, "run_s": run.seconds}
    return {"job": job, **seconds, "source": sb.log("zoho"), "target": tsb.log("zoho")}


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


def _measure(ctx) -> list[Row]:
    from records.connectors import connector_for

    ctx.user = ctx.user or bench_user()
    fresh_orgs(ctx)
    source = zoho_profile(ctx.sb, ctx.user, concurrency=DEFAULT_CONCURRENCY, name="Bench cross source")
    target = zoho_profile(ctx.target_sb, ctx.user, concurrency=DEFAULT_CONCURRENCY, name="Bench cross target")
    conn = connector_for(source)
    name = "Acme Corp" if ctx.quick else ACCOUNT
    root_id = account_id(conn, name)
    levels, ids = tree_shape(conn, root_id, conn.max_deep_copy_depth)
    referenced = add_reference(conn, connector_for(target), root_id)
    first = copy_once(ctx, source, target, root_id, "create")
    again = copy_once(ctx, source, target, root_id, "skip")
    return rows_for(ctx, name, levels, ids, referenced, first, again)


def minimums(levels, ids: dict[str, list[str]], referenced: int, job) -> dict[str, int]:
    waves = Counter(job.results.filter(depth__gt=0).values_list("depth", "object_name"))
    tree_reads, inserts = minimum_calls(levels, waves, None)
    lookups = math.ceil(referenced / LOOKUP_BATCH)  # one referenced object (Accounts) here
    found = sum(math.ceil(len(v) / LOOKUP_BATCH) for v in ids.values())
    return {
        "source": tree_reads + lookups,  # the tree, and the referenced records' key values
        "target": lookups + inserts,
        "rerun_target": lookups + found,
        "lookups": lookups,
        "inserts": inserts,
        "waves": len({depth for depth, _ in waves}) + 1,
    }


def rows_for(ctx, name, levels, ids, referenced, first, again) -> list[Row]:
    job, rerun = first["job"], again["job"]
    m = minimums(levels, ids, referenced, job)
    src, tgt = counts(first["source"]), counts(first["target"])
    rsrc, rtgt = counts(again["source"]), counts(again["target"])
    what = f"account {name!r}, {job.succeeded_count} records, {referenced} referenced account(s) outside the tree"
    rows = [
        _ratio_row("source: data calls vs minimum", src["read"] + src["write"], m["source"], f"{what}; {_split(src)}"),
        _ratio_row(
            "target: data calls vs minimum",
            tgt["read"] + tgt["write"],
            m["target"],
            f"minimum = {m['lookups']} look-up(s) + {m['inserts']} inserts; {_split(tgt)}; job {job.status}, "
            f"{job.failed_count} failed",
        ),
        _wall_row(ctx, first, m, levels),
        _ratio_row(
            "re-run (skip): source data calls",
            rsrc["read"] + rsrc["write"],
            m["source"],
            _split(rsrc),
        ),
        _ratio_row(
            "re-run (skip): target data calls",
            rtgt["read"] + rtgt["write"],
            m["rerun_target"],
            f"minimum = {m['lookups']} look-up(s) + {m['rerun_target'] - m['lookups']} reads of the records "
            f"found; {_split(rtgt)}; job {rerun.status}, {_actions(rerun)}",
        ),
        Row(
            NAME,
            "re-run (skip): writes in the target",
            rtgt["write"],
            0,
            None,
            "= 0",
            rtgt["write"] == 0,
            gate=True,
        ),
    ]
    return rows


def _ratio_row(metric: str, calls: int, minimum: int, note: str) -> Row:
    ratio = calls / minimum if minimum else None
    ok = ratio is not None and ratio <= 1.10
    return Row(NAME, metric, calls, minimum, round(ratio, 2) if ratio else None, "<= 1.10 x min", ok, True, note)


def _split(c: Counter) -> str:
    return f"{c['read']} reads + {c['write']} writes ({c['metadata']} metadata, {c['auth']} auth not counted)"


def _actions(job) -> str:
    actions = Counter(job.results.values_list("action", flat=True))
    return ", ".join(f"{n} {a}" for a, n in sorted(actions.items()))


def _wall_row(ctx, first, m, levels) -> Row:
    """The lower bound at the profile's concurrency: every minimum call takes the latency, at most
    `concurrency` at once, and no faster than the chain of levels (reads level by level, then one
    insert wave after another, the look-ups between)."""
    calls = m["source"] + m["target"]
    chain = 1 + len(levels) + 1 + m["waves"]
    bound = ctx.latency * max(calls / DEFAULT_CONCURRENCY, chain)
    seconds = first["seconds"]
    if not bound:
        return Row(NAME, "wall s vs lower bound", NOT_AVAILABLE, note="no added latency")
    return Row(
        NAME,
        f"wall s (create+run, concurrency {DEFAULT_CONCURRENCY}) vs lower bound",
        round(seconds, 2),
        round(bound, 2),
        round(seconds / bound, 1),
        "info",
        None,
        note=f"bound = {ctx.latency * 1000:g} ms x max({calls} minimum calls / {DEFAULT_CONCURRENCY}, "
        f"a chain of {chain} calls); create {first['plan_s']:.2f} s + run {first['run_s']:.2f} s; the rest "
        "is CPU (plan, payloads, ledger) on a shared machine",
    )
