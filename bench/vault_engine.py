"""Scenario: the Vault hierarchy the engine builds level by level (`--engine`).

Full: "Mega Product" (10,201 related records, past Vault's own deep-copy limit). Quick: a 10 x 10
hierarchy built through the API. Measured: Create Object Records calls against the minimum
(Σ over levels of ⌈records / 500⌉, the top record one call) and the run's wall time against its
lower bound (the calls it made × the sandbox's added latency per call).
"""

from __future__ import annotations

from bench.common import Row, Timer, create_job, na_rows, run_job, unavailable, vault_setup
from bench.vault_deep import build_hierarchy

NAME = "vault_engine_copy"
OBJECTS = ("product__v", "formulation__c", "packaging__c")


def create_calls(log) -> int:
    return sum(1 for e in log if e.method == "POST" and e.path.split("?")[0].rstrip("/").split("/")[-1] in OBJECTS)


def run(ctx) -> list[Row]:
    why = unavailable(ctx.sb, "vault")
    if why:
        return na_rows(NAME, ["create calls vs minimum", "wall s vs calls x latency"], why)
    from records.copying.options import CopyOptions

    sb = ctx.sb
    profile, conn = vault_setup(ctx, name="Bench Vault engine")
    if ctx.quick:
        root, label = build_hierarchy(conn, 10, 10), "10 x 10 hierarchy"
    else:
        root, label = next(r.id for r in conn.search("product__v", "Mega Product").records), "Mega Product"
    top, options = {"name__v": f"{label} (engine copy)"}, CopyOptions(engine=True)
    job = create_job(ctx, profile, "product__v", [root], "deep_copy", overrides=top, options=options)
    levels: dict[tuple[str, int], int] = {}
    for obj, depth in job.results.values_list("object_name", "depth"):
        levels[(obj, depth)] = levels.get((obj, depth), 0) + 1
    minimum = sum(-(-n // conn.batch_size) for n in levels.values())
    sb.clear_log("vault")
    with Timer() as t:
        job = run_job(job)
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
