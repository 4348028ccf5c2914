"""Scenario: Vault's burst limit on, a job paced so the window is never run dry.

The sandbox delays every call past its burst limit (§7.1, `burst_sleep` on). A short window (20 s,
150 calls) stands in for Vault's 5 minutes and 2,000 so the rows take seconds; the connector is
told the same window. Row 1: a clone of 200 products with the window fresh: no call delayed.
Row 2: the same with the window nearly spent (8 calls left when the job starts, fewer than it makes): the connector
spreads its calls over the rest of the window, and no call is delayed either. A delayed call is
one the sandbox answered past the limit (counted by a hook after every call).
"""

from __future__ import annotations

import time

from bench.common import Row, Timer, bench_user, fresh_vault, run_job, vault_profile
from bench.vault_clone import OBJECT, create_products

NAME = "budgets"
WINDOW, LIMIT = 20.0, 150


def _copy(ctx, profile, ids, tag: str) -> tuple[object, float, int]:
    from records.connectors import connector_for
    from records.connectors.vault import VaultConnector
    from records.copying.job_create import copy_job_create
    from records.copying.request import CopyRequest

    sb = ctx.sb
    delayed = [0]
    sb.hooks("vault").after(
        "*", ".*", lambda: delayed.__setitem__(0, delayed[0] + (sb.vault.state.burst_count > LIMIT))
    )
    base = connector_for(profile)
    conn = VaultConnector(base.config, base.tokens, burst_window=WINDOW)
    names = {i: {"name__v": f"Bench Budget {tag} {k:04d}"} for k, i in enumerate(ids)}
    with Timer() as t:
        request = CopyRequest(
            profile=profile, object_name=OBJECT, source_ids=tuple(ids), mode="clone", row_overrides=names
        )
        job = copy_job_create(request=request, user=ctx.user, enqueue=False, connector=conn)
        job = run_job(job, connector=conn)
    sb.hooks("vault").clear()
    return job, t.seconds, delayed[0]


def run(ctx) -> list[Row]:
    from records.connectors import connector_for

    sb = ctx.sb
    ctx.user = ctx.user or bench_user()
    fresh_vault(sb, ctx.latency)
    profile = vault_profile(sb, ctx.user, concurrency=1)
    ids = create_products(connector_for(profile), 200, "Bench Budget Source")
    sb.vault.configure(burst_sleep=True, burst_limit=LIMIT, burst_window=WINDOW)
    rows = []
    for label, left in (("window fresh", LIMIT), ("window nearly spent (8 left)", 8)):
        with sb.vault.state.lock:
            sb.vault.state.burst_window_start, sb.vault.state.burst_count = time.monotonic(), LIMIT - left
        job, seconds, delayed = _copy(ctx, profile, ids, str(left))
        rows.append(
            Row(
                NAME,
                f"Vault burst limit on, {label}: calls delayed by it",
                delayed,
                0,
                None,
                "= 0",
                delayed == 0,
                gate=True,
                note=f"clone of 200 in {seconds:.1f} s; job {job.status}, {job.succeeded_count} ok; "
                f"window {WINDOW:g} s / {LIMIT} calls",
            )
        )
    fresh_vault(sb, ctx.latency)
    return rows
