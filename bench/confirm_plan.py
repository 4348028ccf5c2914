"""Scenario: Confirm of a Vault bulk clone from its stored plan. 5,000 products (`--quick`: 500)
created in the sandbox, their clone's plan read and stored (`stored_plans.plan_read`, as the
"plans" worker does, here in this process), then `copy_job_create(plan=...)` as the web's Confirm
calls it: its queries (those on the plan's pieces apart) and its thread's CPU and wall time. No
remote call is made by it, so the sandbox's latency is none. Informational: the queries on the
pieces are held by tests/copying/test_piece_reads.py.
"""

from __future__ import annotations

import time

from bench.common import Row, bench_user, fresh_vault, vault_profile
from bench.vault_clone import OBJECT, create_products

NAME = "confirm_plan"


def run(ctx) -> list[Row]:
    from django.test import override_settings

    from records.connectors import connector_for
    from records.copying import stored_plans
    from records.copying.request import CopyRequest
    from records.models import CopyPlan

    clones = 500 if ctx.quick else 5000
    ctx.user = ctx.user or bench_user()
    fresh_vault(ctx.sb, 0.0)
    profile = vault_profile(ctx.sb, ctx.user)
    ids = create_products(connector_for(profile), clones, "Bench Confirm Source")
    names = {source: {"name__v": f"Bench Confirm Clone {k:05d}"} for k, source in enumerate(ids)}
    request = CopyRequest(profile=profile, object_name=OBJECT, source_ids=tuple(ids), mode="clone", row_overrides=names)
    with override_settings(PLAN_READ_INLINE=True):  # the worker's read, in this process
        plan = stored_plans.plan_request(request=request, user=ctx.user)
    if plan.status != CopyPlan.Status.READY:
        raise RuntimeError(f"the plan was not read: {plan.status} {plan.error}")
    queries, pieces, cpu, wall, planned = _confirm(request, ctx.user, plan)
    fresh_vault(ctx.sb, ctx.latency)
    note = f"{planned:,} clones confirmed from the stored plan"
    return [
        Row(NAME, f"Confirm of {clones:,} clones: queries", queries, note=f"{pieces:,} on the plan's pieces; {note}"),
        Row(NAME, f"Confirm of {clones:,} clones: CPU s", round(cpu, 3), note=note),
        Row(NAME, f"Confirm of {clones:,} clones: wall s", round(wall, 3), note=note),
    ]


def _confirm(request, user, plan) -> tuple[int, int, float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from records.copying.job_create import copy_job_create

    cpu, wall = time.thread_time(), time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        job = copy_job_create(request=request, user=user, plan=plan, enqueue=False)
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    pieces = sum("planchunk" in q["sql"].lower() for q in captured.captured_queries)
    return len(captured.captured_queries), pieces, cpu, wall, job.planned_count
