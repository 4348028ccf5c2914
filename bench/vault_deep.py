"""Scenario 3: Vault deep copy of a hierarchy just under Vault's 10,000-record limit.

"Mega Product" (10,201 related) is refused before anything is queued (checked here too). The
scenario creates "Bench Hierarchy" through the API: 99 formulations x 99 packagings = 9,900
related records (quick: 10 x 10). Measured: queue -> all results (copy_job_create + the worker's
copy_job_run), the job-status polls (at most one per poll interval), and the time from the
result files' arrival to the last result row saved.
"""

from __future__ import annotations

import math
import time

from bench.common import Row, Timer, create_job, na_rows, run_job, unavailable, vault_setup

NAME = "vault_deep_copy"


def build_hierarchy(conn, n_form: int, n_pack: int) -> str:
    product = conn.create(
        "product__v",
        [{"name__v": "Bench Hierarchy", "status__v": ["active__v"], "description__c": "benchmark hierarchy"}],
    )[0]
    if not product.ok:
        raise RuntimeError(f"product: {product.error_type} {product.error_message}")
    forms = conn.create(
        "formulation__c",
        [
            {"product__c": product.new_id, "dosage_form__c": ["tablet__c"], "strength__c": f"{f + 1} mg"}
            for f in range(n_form)
        ],
    )
    form_ids = [r.new_id for r in forms if r.ok]
    if len(form_ids) != n_form:
        bad = next(r for r in forms if not r.ok)
        raise RuntimeError(f"formulations: {bad.error_type} {bad.error_message}")
    packs = conn.create(
        "packaging__c",
        [
            {"formulation__c": f, "pack_size__c": 10 + k % 10, "gtin__c": f"9{i:06d}{k:06d}"}
            for i, f in enumerate(form_ids)
            for k in range(n_pack)
        ],
    )
    bad = [r for r in packs if not r.ok]
    if bad:
        raise RuntimeError(f"packagings: {bad[0].error_type} {bad[0].error_message}")
    return product.new_id


def run(ctx) -> list[Row]:
    why = unavailable(ctx.sb, "vault")
    if why:
        return na_rows(NAME, ["queue -> all results", "status polls", "result CSV -> rows"], why)
    from django.core.exceptions import ValidationError

    from records.connectors import connector_for

    sb = ctx.sb
    profile, conn = vault_setup(ctx)
    rows: list[Row] = []

    # Mega Product: refused before anything is queued.
    mega = conn.search("product__v", "Mega Product").records[0].id
    if not ctx.quick:
        t0 = time.perf_counter()
        try:
            create_job(ctx, profile, "product__v", [mega], "deep_copy", overrides={"name__v": "Mega copy"})
            refused = False
        except ValidationError:
            refused = True
        rows.append(
            Row(
                NAME,
                "Mega Product (10,201 related) refused before queueing",
                "refused" if refused else "QUEUED",
                None,
                None,
                "refused",
                refused,
                gate=True,
                note=f"in {time.perf_counter() - t0:.2f} s",
            )
        )

    n_form, n_pack = (10, 10) if ctx.quick else (99, 99)
    root = build_hierarchy(conn, n_form, n_pack)
    related = n_form + n_form * n_pack

    # Time the engine's use of the result files through its connector (same object it runs with).
    run_conn = connector_for(profile)
    marks = {}
    original = run_conn.deep_copy_results

    def timed_results(*args, **kwargs):
        t = time.perf_counter()
        out = original(*args, **kwargs)
        marks["results_fetch_s"] = time.perf_counter() - t
        marks["results_at"] = time.perf_counter()
        marks["result_rows"] = len(out)
        return out

    run_conn.deep_copy_results = timed_results
    sb.clear_log("vault")
    with Timer() as t_create:
        job = create_job(
            ctx, profile, "product__v", [root], "deep_copy", overrides={"name__v": "Bench Hierarchy (copy)"}
        )
    create_log = sb.log("vault")
    sb.clear_log("vault")
    with Timer() as t_run:
        job = run_job(job, connector=run_conn)
    end = time.perf_counter()
    log = sb.log("vault")
    polls = [e for e in log if "/services/jobs/" in e.path]
    refused_polls = [e for e in polls if e.status != 200 or "API_LIMIT_EXCEEDED" in (e.body_summary or "")]
    total = t_create.seconds + t_run.seconds
    allowed = math.floor(t_run.seconds / ctx.poll_seconds) + 1
    rows.append(
        Row(
            NAME,
            f"queue -> all results, {related:,} related records (s)",
            round(total, 2),
            None,
            None,
            "info",
            None,
            note=f"create (plan reads) {t_create.seconds:.2f} s, {len(create_log)} calls; run "
            f"{t_run.seconds:.2f} s, {len(log)} calls; job {job.status}: {job.succeeded_count:,} ok / "
            f"{job.failed_count:,} failed of {job.planned_count:,}",
        )
    )
    rows.append(
        Row(
            NAME,
            f"status polls (poll interval {ctx.poll_seconds:g} s)",
            len(polls),
            allowed,
            None,
            "<= 1 per interval",
            len(polls) <= allowed and not refused_polls,
            gate=True,
            note=f"{len(refused_polls)} polls refused by the sandbox's poll limit",
        )
    )
    if "results_at" in marks:
        to_rows = end - marks["results_at"]
        rows.append(
            Row(
                NAME,
                "result files: fetch+parse s / rows",
                round(marks["results_fetch_s"], 2),
                marks["result_rows"],
                None,
                "info",
                None,
            )
        )
        per_row_ms = to_rows / max(1, marks["result_rows"]) * 1000
        rows.append(
            Row(
                NAME,
                "result rows -> saved results (s)",
                round(to_rows, 2),
                None,
                None,
                "< 1 ms per row",
                per_row_ms < 1.0,
                note=f"{per_row_ms:.2f} ms per row (from the parsed files to the job's end)",
            )
        )
    else:
        rows.append(
            Row(
                NAME,
                "result CSV -> rows",
                "not measured",
                None,
                None,
                "info",
                None,
                note="deep_copy_results was not called",
            )
        )
    return rows
