"""Scenario 2: Vault bulk clone of 5,000 records (500 per create call: minimum 10 calls).

The demo has eleven products, so the scenario first creates 5,000 through the API (not counted).
Planning reads each record's name in batched VQL queries: counted in their own row,
never among the create calls.
Engine: copy_job_create(mode=clone) + copy_job_run, each clone named by a per-row override
(name__v is unique). Baseline: one clone call (create with source_record_id) per record.
"""

from __future__ import annotations

import math

from bench.common import Row, Timer, create_job, na_rows, run_job, unavailable, vault_setup

NAME = "vault_bulk_clone"
OBJECT = "product__v"


def create_products(conn, n: int, prefix: str) -> list[str]:
    rows = [
        {
            "name__v": f"{prefix} {i:05d}",
            "description__c": f"benchmark product {i}",
            "price__c": 10 + i % 90,
            "status__v": ["active__v"],
        }
        for i in range(n)
    ]
    results = conn.create(OBJECT, rows)
    bad = [r for r in results if not r.ok]
    if bad:
        raise RuntimeError(f"creating demo products failed: {bad[0].error_type} {bad[0].error_message}")
    return [r.new_id for r in results]


def create_calls(log) -> int:
    return sum(
        1 for e in log if e.method == "POST" and e.path.split("?")[0].rstrip("/").endswith(f"/vobjects/{OBJECT}")
    )


def query_calls(log) -> int:
    return sum(1 for e in log if e.method == "POST" and e.path.split("?")[0].rstrip("/").endswith("/query"))


def run(ctx) -> list[Row]:
    why = unavailable(ctx.sb, "vault")
    if why:
        return na_rows(NAME, ["create calls vs minimum", "wall time vs one create per record"], why)
    from records.connectors.base import CloneRequest

    sb = ctx.sb
    n = ctx.scale(5000, 200)
    baseline_n = n if getattr(ctx, "full_baselines", False) else ctx.scale(1000, 50)
    profile, conn = vault_setup(ctx)
    ids = create_products(conn, n, "Bench Clone Source")

    # -- engine ---------------------------------------------------------------------------
    sb.clear_log("vault")
    with Timer() as t_create:
        names = {i: {"name__v": f"Bench Clone {k:05d}"} for k, i in enumerate(ids)}  # name__v is unique
        job = create_job(ctx, profile, OBJECT, ids, "clone", row_overrides=names)
    create_log = sb.log("vault")
    sb.clear_log("vault")
    with Timer() as t_run:
        job = run_job(job)
    run_log = sb.log("vault")
    engine_creates = create_calls(run_log)
    minimum = math.ceil(n / 500)
    eng_s = t_create.seconds + t_run.seconds

    # -- baseline: one call per record ------------------------------------------------------
    sb.clear_log("vault")
    with Timer() as t_naive:
        failed = 0
        for k, source in enumerate(ids[:baseline_n]):
            result = conn.clone(OBJECT, [CloneRequest(source, {"name__v": f"Bench Naive {k:05d}"})])[0]
            failed += not result.ok
    naive_log = sb.log("vault")
    naive_s = t_naive.seconds * (n / baseline_n)
    extrap = (
        ""
        if baseline_n == n
        else (
            f" (baseline measured on {baseline_n:,} records in {t_naive.seconds:.2f} s and scaled to {n:,}: a lower "
            f"bound: one call per record for more than 2,000 records also meets Vault's burst limit of 2,000 calls per 5 "
            f"minutes; --full-baselines runs all)"
        )
    )
    rows = [
        Row(
            NAME,
            f"create calls for {n:,} clones",
            engine_creates,
            minimum,
            round(engine_creates / minimum, 2),
            "<= 1.10 x min",
            engine_creates <= minimum * 1.10,
            gate=True,
            note=f"job {job.status}: {job.succeeded_count:,} ok / {job.failed_count:,} failed; all calls: create "
            f"{len(create_log)}, run {len(run_log)}",
        ),
        Row(
            NAME,
            f"name reads (VQL queries) to plan {n:,} clones",
            query_calls(create_log),
            math.ceil((n - 1) / 1000),
            None,
            "info",
            None,
            note="the first record is read by GET; the others' names 1,000 ids a query (Connector.names)",
        ),
        Row(
            NAME,
            "naive: create calls (1 per record)",
            create_calls(naive_log) * n // baseline_n,
            minimum,
            round(create_calls(naive_log) * n / baseline_n / minimum, 1),
            "info",
            None,
            note=f"{failed} of {baseline_n} failed",
        ),
        Row(
            NAME,
            "wall s, engine vs one create per record",
            round(eng_s, 2),
            round(naive_s, 2),
            round(naive_s / eng_s, 1),
            ">= 10x faster" if not ctx.quick else "info (quick)",
            (naive_s / eng_s >= 10) if not ctx.quick else None,
            note=f"create {t_create.seconds:.2f} s + run {t_run.seconds:.2f} s{extrap}",
        ),
    ]
    return rows
