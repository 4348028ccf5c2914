"""Scenario: the Vault hierarchy the engine builds level by level (issue 16, `--engine`).

Full: "Mega Product" (10,201 related records, past Vault's own deep-copy limit). Quick: a 10 x 10
hierarchy built through the API. Measured: Create Object Records calls against the minimum
(Σ over levels of ⌈records / 500⌉, the top record one call) and the run's wall time against its
lower bound (the calls it made × the sandbox's added latency per call).
"""

from __future__ import annotations

from bench.common import (
    Row,
    Timer,
    bench_user,
    connector_available,
    engine_available,
    na_rows,
    sandbox_available,
    vault_profile,
)
from bench.vault_clone import fresh_vault
from bench.vault_deep import build_hierarchy

NAME = "vault_engine_copy"
OBJECTS = ("product__v", "formulation__c", "packaging__c")


def create_calls(log) -> int:
    return sum(1 for e in log if e.method == "POST" and e.path.split("?")[0].rstrip("/").split("/")[-1] in OBJECTS)


def run(ctx) -> list[Row]:
    why = engine_available() or connector_available("vault") or sandbox_available(ctx.sb, "vault")
    if why:
        return na_rows(NAME, ["create calls vs minimum", "wall s vs calls x latency"], why)
    from records.connectors import connector_for
    from records.copying.options import CopyOptions
    from records.copying.services import copy_job_create, copy_job_run

    sb = ctx.sb
    fresh_vault(sb, ctx.latency)
    ctx.user = ctx.user or bench_user()
    profile = vault_profile(sb, ctx.user, name="Bench Vault engine")
    conn = connector_for(profile)
    if ctx.quick:
        root, label = build_hierarchy(conn, 10, 10), "10 x 10 hierarchy"
    else:
        root, label = next(r.id for r in conn.search("product__v", "Mega Product").records), "Mega Product"
    job = copy_job_create(
        profile=profile,
        object_name="product__v",
        source_ids=[root],
        mode="deep_copy",
        user=ctx.user,
        overrides={"name__v": f"{label} (engine copy)"},
        enqueue=False,
        options=CopyOptions(engine=True),
    )
    levels: dict[tuple[str, int], int] = {}
    for obj, depth in job.results.values_list("object_name", "depth"):
        levels[(obj, depth)] = levels.get((obj, depth), 0) + 1
    minimum = sum(-(-n // conn.batch_size) for n in levels.values())
    sb.clear_log("vault")
    with Timer() as t:
        job = copy_job_run(job_id=job.pk, worker_id="bench")
    log = sb.log("vault")
    creates = create_calls(log)
    bound = len(log) * ctx.latency
    related = job.planned_count - 1
    note = f"job {job.status}: {job.succeeded_count:,} of {job.planned_count:,}; {len(log)} calls in all"
    return [
        Row(
            NAME,
            f"create calls, {label} ({related:,} related)",
            creates,
            minimum,
            round(creates / minimum, 2),
            "<= 1.1x minimum",
            creates <= 1.1 * minimum and job.succeeded_count == job.planned_count,
            gate=True,
            note=note,
        ),
        Row(
            NAME,
            "wall s vs calls x latency",
            round(t.seconds, 2),
            round(bound, 2),
            round(t.seconds / bound, 2) if bound else None,
            "info",
            None,
            note=f"latency {ctx.latency * 1000:g} ms per call",
        ),
    ]
