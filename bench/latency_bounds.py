"""Scenario: wall time against the lower bound the API allows, at a real remote's latency.

Four copies at 200 ms per call (whatever `--latency-ms` says; `--quick`: small ones at the quick
latency, informational): the Zoho deep copy of Big Account, the Vault bulk clone of 5,000, the
engine-built Mega Product and the cross-org Zoho deep copy. For each, the plan's shape (read
first with no added latency) gives the dependent steps of planning and of running (bounds.py),
and the rows report wall ÷ bound for planning, running and both, at the profile's concurrency 5.
The full run gates both together at ≤ 1.25×.

Each copy runs against sandbox processes of its own (bench/bound_org.py, one per org: the
cross-org copy has two), fresh for the copy: a real Vault or Zoho is another machine, and in this
process the emulator's CPU would share the interpreter lock with the copy being timed (each 200 ms
call was seen taking 0.25–0.5 s). Beside each row: the CPU this process spent on the copy
(`time.process_time`, all its threads) and the sandbox processes' CPU.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bench import bounds
from bench.common import Row, bench_user, create_job, na_rows, run_job, unavailable, vault_profile, zoho_profile
from bench.org_process import OrgProcess
from bench.zoho_deep import account_id, later_references

NAME = "latency_bounds"
LATENCY = 0.2
CONCURRENCY = 5
TARGET = 1.25
ZOHO_BULK = bounds.ReadLimits(ids_per_query=100, rows_per_page=2000)  # COQL: 100 ids in `in`, 2,000 rows
ZOHO_PER_PARENT = bounds.ReadLimits(ids_per_query=0, rows_per_page=200)  # Notes: related-list API, 200 a page
# The connector's IN chunk, a VQL page; the pages after the first by PAGEOFFSET, at once (documented:
# records/connectors/vault_pages.py), so the bound lets them overlap too.
VAULT_VQL = bounds.ReadLimits(ids_per_query=200, rows_per_page=1000, by_offset=True)
NON_COQL = {"Notes", "Attachments"}


def tree_levels(conn, nodes, limits_for) -> list[list[tuple[list[int], bounds.ReadLimits]]]:
    """Per level, per related list the planner follows: the children of each parent (zero
    included: a per-parent read is made for every parent) and how that list is read."""
    children: Counter = Counter((n.depth, n.object_name, n.parent_field, n.parent_source_id) for n in nodes if n.depth)
    levels = []
    for depth in range(1, max((n.depth for n in nodes), default=0) + 2):
        parents: dict[str, list[str]] = defaultdict(list)
        for n in nodes:
            if n.depth == depth - 1:
                parents[n.object_name].append(n.source_id)
        level = []
        for parent_object, ids in parents.items():
            for related in [r for r in conn.related_lists(parent_object) if r.deep_copy]:
                key = (depth, related.child_object, related.parent_field)
                level.append(([children[(*key, p)] for p in ids], limits_for(related.child_object)))
        if level:
            levels.append(level)
    return levels[: conn.max_deep_copy_depth]


def deep_read_steps(conn, root_object: str, root_id: str, limits_for) -> list[int]:
    """A deep copy's planning reads as dependent steps (bounds.read_steps): its tree's levels,
    after the metadata of the objects the first level reads."""
    from records.copying.tree import read_tree

    levels = tree_levels(conn, read_tree(conn, root_object, root_id), limits_for)
    return bounds.read_steps(levels, first_described=first_level_objects(conn, root_object))


def first_level_objects(conn, root_object: str) -> int:
    """The objects the root's related lists read whose fields a query names (their metadata is a
    step before the first level's queries): Zoho's Notes and Attachments are read per parent
    through the related-list API, not by a query naming fields."""
    return len({r.child_object for r in conn.related_lists(root_object) if r.deep_copy} - NON_COQL)


def zoho_limits(child: str) -> bounds.ReadLimits:
    return ZOHO_PER_PARENT if child in NON_COQL else ZOHO_BULK


def waves(job) -> list[dict[str, int]]:
    per: dict[int, Counter] = defaultdict(Counter)
    for depth, obj in job.results.filter(depth__gt=0).values_list("depth", "object_name"):
        per[depth][obj] += 1
    return [dict(per[d]) for d in sorted(per)]


@dataclass
class Measured:
    """One copy's wall and CPU seconds: this process's (`process_time`, every thread: the copy's
    pool included) for planning and running, and the sandbox processes' for both."""

    job: object
    plan_s: float
    run_s: float
    plan_cpu: float
    run_cpu: float
    orgs_cpu: float
    plan_calls: int
    run_calls: int

    def cpu_note(self, part: str) -> str:
        wall, cpu, calls = {
            "planning": (self.plan_s, self.plan_cpu, self.plan_calls),
            "running": (self.run_s, self.run_cpu, self.run_calls),
            "together": (self.plan_s + self.run_s, self.plan_cpu + self.run_cpu, self.plan_calls + self.run_calls),
        }[part]
        share = f" ({cpu / wall:.0%} of the wall time)" if wall else ""
        note = f"{calls} calls made (auth and metadata included); bench CPU {cpu:.2f} s{share}"
        return note + (f"; sandbox processes' CPU {self.orgs_cpu:.2f} s" if part == "together" else "")


def ratio_rows(label: str, times: Measured, plan_steps, run_steps, latency: float, gate: bool) -> list[Row]:
    plan_b = bounds.lower_bound(plan_steps, concurrency=CONCURRENCY, latency=latency)
    run_b = bounds.lower_bound(run_steps, concurrency=CONCURRENCY, latency=latency)
    rows = []
    for part, wall, bound, steps in (
        ("planning", times.plan_s, plan_b, plan_steps),
        ("running", times.run_s, run_b, run_steps),
        ("together", times.plan_s + times.run_s, plan_b + run_b, None),
    ):
        ratio = wall / bound if bound else None
        gated = gate and part == "together"
        note = f"steps (calls each) {list(steps)}" if steps is not None else f"at {latency * 1000:g} ms per call"
        rows.append(
            Row(
                NAME,
                f"{label}: {part} wall s vs lower bound",
                round(wall, 2),
                round(bound, 2),
                round(ratio, 2) if ratio else None,
                f"<= {TARGET} x bound" if gated else "info",
                (ratio is not None and ratio <= TARGET) if gated else None,
                gate=gated,
                note=f"{note}; {times.cpu_note(part)}",
            )
        )
    return rows


@contextmanager
def bound_orgs(ctx, *, target: bool = False) -> Iterator[list[OrgProcess]]:
    """A fresh sandbox process for the copy (and one for its target org), stopped after it."""
    command = ("-m", "bench.bound_org", "--poll-seconds", str(getattr(ctx.sb, "_bench_poll", 0.2)))
    orgs = [OrgProcess(command)]
    try:
        if target:
            orgs.append(OrgProcess((*command, "--target")))
        yield orgs
    finally:
        for org in orgs:
            org.stop()


def timed_copy(ctx, orgs: list[OrgProcess], system: str, profile, object_name, ids, mode, **kw) -> Measured:
    """Plan and run the copy, each timed (wall, this process's CPU); the sandbox processes' CPU and
    the calls they answered in each phase (their logs, read between the phases, outside the times)."""
    from django.test.utils import override_settings

    orgs_cpu = sum(org.cpu_seconds() for org in orgs)
    for org in orgs:
        org.clear_log(system)
    with override_settings(DEBUG=False):
        return _timed(ctx, orgs, system, profile, object_name, ids, mode, orgs_cpu, **kw)


def _timed(ctx, orgs, system, profile, object_name, ids, mode, orgs_cpu, **kw) -> Measured:
    start, cpu = time.perf_counter(), time.process_time()
    job = create_job(ctx, profile, object_name, ids, mode, **kw)
    plan_s, plan_cpu = time.perf_counter() - start, time.process_time() - cpu
    plan_calls = _calls(orgs, system)
    start, cpu = time.perf_counter(), time.process_time()
    job = run_job(job)
    run_s, run_cpu = time.perf_counter() - start, time.process_time() - cpu
    orgs_cpu = sum(org.cpu_seconds() for org in orgs) - orgs_cpu
    return Measured(job, plan_s, run_s, plan_cpu, run_cpu, orgs_cpu, plan_calls, _calls(orgs, system))


def _calls(orgs: list[OrgProcess], system: str) -> int:
    """The calls the orgs answered since their logs were last cleared (then cleared again)."""
    count = 0
    for org in orgs:
        count += len(org.log(system))
        org.clear_log(system)
    return count


def zoho_deep(ctx, latency: float) -> list[Row]:
    from records.connectors import connector_for

    with bound_orgs(ctx) as orgs:
        conn = connector_for(zoho_profile(orgs[0], ctx.user, concurrency=CONCURRENCY))
        name = "Acme Corp" if ctx.quick else "Big Account"
        root_id = account_id(conn, name)
        read_steps = deep_read_steps(conn, "Accounts", root_id, zoho_limits)
        orgs[0].set_latency(latency)
        profile = zoho_profile(orgs[0], ctx.user, concurrency=CONCURRENCY)
        top = {"Account_Name": f"{name} (bound copy)", "Account_Number": None}
        times = timed_copy(ctx, orgs, "zoho", profile, "Accounts", [root_id], "deep_copy", overrides=top)
    job = times.job
    updates = sum(later_references(job, root_id).values())
    run_steps = bounds.write_steps(waves(job), batch_size=conn.batch_size, updates=updates)
    label = f"Zoho deep copy of {name} ({job.succeeded_count:,} ok)"
    return ratio_rows(label, times, read_steps, run_steps, latency, not ctx.quick)


def vault_clone(ctx, latency: float) -> list[Row]:
    from bench.vault_clone import OBJECT, create_products
    from records.connectors import connector_for

    n = ctx.scale(5000, 200)
    with bound_orgs(ctx) as orgs:
        profile = vault_profile(orgs[0], ctx.user, concurrency=CONCURRENCY)
        conn = connector_for(profile)
        ids = create_products(conn, n, "Bench Bound Source")
        orgs[0].set_latency(latency, "vault")
        names = {i: {"name__v": f"Bench Bound {k:05d}"} for k, i in enumerate(ids)}
        times = timed_copy(ctx, orgs, "vault", profile, OBJECT, ids, "clone", row_overrides=names)
    plan_steps, run_steps = clone_steps(n, batch_size=conn.batch_size)
    label = f"Vault bulk clone of {n:,} ({times.job.succeeded_count:,} ok)"
    return ratio_rows(label, times, plan_steps, run_steps, latency, not ctx.quick)


def clone_steps(n: int, *, batch_size: int) -> tuple[list[int], list[int]]:
    """A Vault bulk clone of `n` records, each given a new (unique) name, as dependent steps.

    Planning: the object's metadata, the first record's read and the others' names (1,000 ids a
    VQL query) need nothing from each other; the holders of the new names (1,000 values a query)
    need the metadata first: it says which fields are unique. Running: the object's metadata again
    (the schema may have changed since the plan: whether the copy-key field is still there) and the
    clones, `batch_size` a call, all independent: a clone that sets nothing per object is sent on
    the fields its plan kept (records/copying/planned_fields.py), the describe beside its first
    calls. The object list and the picklists are not counted: the copy can do without them."""
    names = math.ceil((n - 1) / 1000)
    holders = math.ceil(n / 1000)
    return [1 + 1 + names, holders], [1 + math.ceil(n / batch_size)]


def vault_engine(ctx, latency: float) -> list[Row]:
    from bench.vault_deep import build_hierarchy
    from records.connectors import connector_for
    from records.copying.options import CopyOptions

    with bound_orgs(ctx) as orgs:
        profile = vault_profile(orgs[0], ctx.user, concurrency=CONCURRENCY)
        conn = connector_for(profile)
        if ctx.quick:
            root, label = build_hierarchy(conn, 10, 10), "10 x 10 hierarchy"
        else:
            root, label = next(r.id for r in conn.search("product__v", "Mega Product").records), "Mega Product"
        read_steps = deep_read_steps(conn, "product__v", root, lambda _child: VAULT_VQL)
        orgs[0].set_latency(latency, "vault")
        top, options = {"name__v": f"{label} (bound copy)"}, CopyOptions(engine=True)
        times = timed_copy(
            ctx, orgs, "vault", profile, "product__v", [root], "deep_copy", overrides=top, options=options
        )
    run_steps = bounds.write_steps(waves(times.job), batch_size=conn.batch_size)
    label = f"engine-built {label} ({times.job.succeeded_count:,} ok)"
    return ratio_rows(label, times, read_steps, run_steps, latency, not ctx.quick)


def zoho_cross(ctx, latency: float) -> list[Row]:
    from bench import zoho_cross as zc
    from records.connectors import connector_for

    with bound_orgs(ctx, target=True) as orgs:
        source = zoho_profile(orgs[0], ctx.user, concurrency=CONCURRENCY, name="Bound cross source")
        target = zoho_profile(orgs[1], ctx.user, concurrency=CONCURRENCY, name="Bound cross target")
        conn = connector_for(source)
        name = "Acme Corp" if ctx.quick else "Big Account"
        root_id = account_id(conn, name)
        zc.add_reference(conn, connector_for(target), root_id)
        read_steps = deep_read_steps(conn, "Accounts", root_id, zoho_limits)
        for org in orgs:
            org.set_latency(latency)
        times = timed_copy(ctx, orgs, "zoho", source, "Accounts", [root_id], "deep_copy", target=target)
    # After the tree: the referenced records' key values (source), then their look-up (target).
    plan_steps = [*read_steps, 1, 1]
    run_steps = bounds.write_steps(waves(times.job), batch_size=conn.batch_size)
    label = f"cross-org Zoho deep copy of {name} ({times.job.succeeded_count:,} ok)"
    return ratio_rows(label, times, plan_steps, run_steps, latency, not ctx.quick)


def run(ctx) -> list[Row]:
    why = unavailable(ctx.sb, "zoho") or unavailable(ctx.sb, "vault")
    if why:
        return na_rows(NAME, ["wall s vs lower bound"], why)
    ctx.user = ctx.user or bench_user()
    latency = ctx.latency if ctx.quick else getattr(ctx, "bound_latency", LATENCY)
    rows: list[Row] = []
    only = getattr(ctx, "bound_copies", None)
    for part in (zoho_deep, vault_clone, vault_engine, zoho_cross):
        if not only or part.__name__ in only:
            rows += part(ctx, latency)
    return rows
