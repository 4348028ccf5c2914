"""Scenario: 100,000 records with flat memory: "Giant Account" (Zoho deep copy) and "Giant Product"
(the engine-built Vault deep copy), each at a small and a large size.

Each phase runs in its own process (bench/giant_worker.py), as on the workers: reading the plan
(the "plans" queue), making the job from it (Confirm), running the job (the "default" queue), then
undoing it: the undo job made as the Undo button makes it, and run as a worker runs it; each
phase's peak memory is its process's VmHWM. Measured: the peak of each phase at the large size (target
under 300 MB), its growth from the small size to the large one (under 1.5x), and the wall time's
growth against the records' (at most linear), the copy's and the undo's apart; every record the
copy made deleted by the undo (counted in the sandbox). A sandbox of its own per size (the giant records are
made only when asked: ZohoSettings / VaultSettings `giant_related`), a few ms of latency per call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bench.common import ROOT, Row, bench_user, na_rows, unavailable, vault_profile, zoho_profile

NAME = "giant"
COPY_PHASES = ("plan", "confirm", "run")
UNDO_PHASES = ("undo", "undo_run")
PHASES = COPY_PHASES + UNDO_PHASES
PEAK_MB, PEAK_GROWTH, LATENCY = 300.0, 1.5, 0.002
SYSTEMS = {
    # system: (root object, root name, top overrides, options)
    "zoho": ("Accounts", "Giant Account", {"Account_Name": "Giant Account (copy)", "Account_Number": None}, {}),
    "vault": ("product__v", "Giant Product", {"name__v": "Giant Product (copy)"}, {"engine": True}),
}


def sizes(ctx) -> tuple[int, int]:
    if os.environ.get("GIANT_SIZES"):  # e.g. "2000,10000": while measuring by hand
        small, large = os.environ["GIANT_SIZES"].split(",")
        return int(small), int(large)
    return (300, 1_200) if ctx.quick else (10_000, 100_000)


def phase(name: str, ident: int) -> dict:
    """One phase in a fresh process; its JSON line (its error's last lines when it fails)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.giant_worker", name, str(ident)],
        cwd=ROOT,
        # Zoho's deep copies stop at the connector's 10,000 related records unless the setting says more.
        env={**os.environ, "BUILT_DEEP_COPY_MAX_RECORDS": "100000"},
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise RuntimeError(f"{name} failed: " + " | ".join(out.stderr.strip().splitlines()[-3:]))
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_sandbox(system: str, related: int, latency: float):
    from sandbox import Sandbox

    knob = {"giant_related": related}
    sb = Sandbox.start(
        vault_settings={**(knob if system == "vault" else {}), "job_poll_interval": 0.2, "burst_sleep": False},
        zoho_settings=knob if system == "zoho" else None,
    )
    sb.faults(system).set(latency=latency)
    if system == "zoho":  # a contact's copy in the same org would clash on Email (as bench/zoho_deep.py)
        for f in sb.zoho.state.modules["Contacts"].fields:
            if f["api_name"] == "Email":
                f["unique"] = {}
    return sb


def measure(ctx, system: str, related: int) -> dict:
    """The three phases of one copy of the giant record of `system` with `related` records."""
    from django.utils import timezone

    from records.connectors import connector_for
    from records.copying.options import CopyOptions
    from records.copying.request import CopyRequest
    from records.copying.stored_plans import plan_key
    from records.models import CopyJob, CopyPlan

    obj, name, top, options = SYSTEMS[system]
    sb = start_sandbox(system, related, LATENCY)
    try:
        make = zoho_profile if system == "zoho" else vault_profile
        profile = make(sb, ctx.user, concurrency=5)
        root = next(r.id for r in connector_for(profile).search(obj, name).records if r.name == name)
        request = CopyRequest(
            profile=profile,
            object_name=obj,
            source_ids=(root,),
            mode="deep_copy",
            overrides=top,
            options=CopyOptions.from_dict(options),
        )
        row = CopyPlan.objects.create(
            **request.row_fields(), requested_by=ctx.user, key=plan_key(request=request), heartbeat=timezone.now()
        )
        out = {"plan": phase("plan", row.pk)}
        out["confirm"] = phase("confirm", row.pk)
        out["run"] = phase("run", out["confirm"]["id"])
        job = CopyJob.objects.get(pk=out["run"]["id"])
        out["job"] = f"job {job.status}: {job.succeeded_count:,} of {job.planned_count:,} copied"
        out["ok"] = job.succeeded_count == job.planned_count and job.planned_count > related
        out["records"], out["name"] = job.planned_count, name
        out["pages"] = job_pages(ctx, job)
        out["undo"] = phase("undo", job.pk)
        out["undo_run"] = phase("undo_run", out["undo"]["id"])
        out["undone"], out["undo_ok"] = undo_outcome(sb, system, job, out["undo_run"]["id"])
        return out
    finally:
        sb.stop()


def undo_outcome(sb, system: str, job, undo_id: int) -> tuple[str, bool]:
    """What the undo left: its job's counts and how many of the copy's records are still in the
    sandbox (read from the sandbox's own state, not through the connector the undo used)."""
    from records.models import CopyJob, RecordResult

    undo = CopyJob.objects.get(pk=undo_id)
    made = job.results.filter(status=RecordResult.Status.SUCCEEDED, action=RecordResult.Action.CREATE)
    records = getattr(sb, system).state.records
    left = sum(1 for obj, new_id in made.values_list("object_name", "new_id").iterator() if new_id in records[obj])
    count = made.count()
    text = f"undo {undo.status}: {undo.succeeded_count:,} of {undo.planned_count:,} deleted, {left:,} of {count:,} left"
    return text, left == 0 and count == job.planned_count and undo.succeeded_count == undo.planned_count == count


def job_pages(ctx, job) -> dict[str, tuple[float, int]]:
    """{page: (ms, queries)} of the job's page and its live part (what the browser polls each second)."""
    from django.test import Client
    from django.urls import reverse

    from bench.job_page import measure

    client = Client()
    client.force_login(ctx.user)
    out = {}
    for label, url in (
        ("job page", reverse("job_detail", args=[job.code])),
        ("live part", reverse("job_live", args=[job.code])),
    ):
        ms, queries, _ = measure(client, url, 3)
        out[label] = (ms, queries)
    return out


def page_rows(ctx, scenario: str, small: dict, large: dict, n_small: int, n_large: int) -> list[Row]:
    gated = not ctx.quick
    rows = []
    for label, (ms, queries) in large["pages"].items():
        ms0, queries0 = small["pages"][label]
        rows.append(
            Row(
                scenario,
                f"{large['name']}, {label}: queries / ms at {n_large:,} (vs {n_small:,})",
                f"{queries} / {ms:.0f}",
                f"{queries0} / {ms0:.0f}",
                round(ms / ms0, 2) if ms0 else None,
                "flat queries" if gated else "info",
                queries == queries0 if gated else None,
                gate=gated,
                note=f"{label} of the copy's job: the same queries at either size; its time (median of 3) is "
                "informational (bench/job_page.py gates it on results written straight into the database)",
            )
        )
    return rows


def rows_of(ctx, system: str, small: dict, large: dict, n_small: int, n_large: int) -> list[Row]:
    gated = not ctx.quick
    scenario, name = NAME, SYSTEMS[system][1]
    rows = []
    for p in PHASES:
        peak, before = large[p]["vmhwm_mb"], small[p]["vmhwm_mb"]
        growth = peak / before if before else None
        ok = peak < PEAK_MB and growth is not None and growth < PEAK_GROWTH
        rows.append(
            Row(
                scenario,
                f"{name}, {p}: peak RSS MB at {n_large:,} (vs {n_small:,})",
                round(peak, 1),
                round(before, 1),
                round(growth, 2) if growth else None,
                f"< {PEAK_MB:g} MB, < {PEAK_GROWTH:g}x" if gated else "info",
                ok if gated else None,
                gate=gated,
                note=f"{p}: {large[p]['seconds']:.1f} s at {n_large:,}, {small[p]['seconds']:.1f} s at {n_small:,}",
            )
        )
    rows.append(wall_row(ctx, name, "copy", small, large, n_small, n_large))
    rows.append(wall_row(ctx, name, "undo", small, large, n_small, n_large))
    return rows


def wall_row(ctx, name: str, what: str, small: dict, large: dict, n_small: int, n_large: int) -> Row:
    """The copy's (plan, confirm, run) or the undo's (undo, undo_run) wall time, at most linear in
    the records; and every record copied, or every copy deleted."""
    gated = not ctx.quick
    phases, ok, says, done = (
        (COPY_PHASES, "ok", "job", "copied") if what == "copy" else (UNDO_PHASES, "undo_ok", "undone", "deleted")
    )
    big, little = sum(large[p]["seconds"] for p in phases), sum(small[p]["seconds"] for p in phases)
    scale = large["records"] / small["records"]
    return Row(
        NAME,
        f"{name}, {what}: wall s at {n_large:,} vs {n_small:,} (records x{scale:.1f})",
        round(big, 1),
        round(little, 1),
        round(big / little, 2),
        f"<= {scale:.1f}x (linear), all {done}" if gated else "info",
        (big / little <= scale and large[ok] and small[ok]) if gated else None,
        gate=gated,
        note=f"{large[says]} ({small[says]} at {n_small:,}); latency {LATENCY * 1000:g} ms per call",
    )


def run(ctx) -> list[Row]:
    ctx.user = ctx.user or bench_user()
    n_small, n_large = sizes(ctx)
    rows: list[Row] = []
    only = os.environ.get("GIANT_SYSTEMS")  # e.g. "zoho": while measuring by hand
    for system in SYSTEMS:
        if only and system not in only.split(","):
            continue
        why = unavailable(ctx.sb, system)
        if why:
            rows += na_rows(NAME, [f"{system}: peak RSS", f"{system}: wall time"], why)
            continue
        small = measure(ctx, system, n_small)
        large = measure(ctx, system, n_large)
        rows += rows_of(ctx, system, small, large, n_small, n_large)
        rows += page_rows(ctx, NAME, small, large, n_small, n_large)
    return rows
