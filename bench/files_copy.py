"""Scenario: file throughput of a deep copy carrying attachments (`copy --attachments`).

A product with 5 formulations, 50 attachments spread over them, sizes from 1 KB to 20 MB in a
geometric series (quick: 10 files, 1 KB to 2 MB). Engine: the Vault deep copy with
CopyOptions(files=True), its MB/s over the whole run (records included). Baseline: the sandbox's
own speed for the same bytes, each file downloaded and uploaded again through the connector one
after the other with nothing else, same latency, same sandbox. Target: >= 0.8x of it, at a new
profile's default concurrency 5 (the job overlaps its files up to it, as it does its record
writes). A second row, informational: the same at concurrency 1, one file at a time as the
baseline goes, so what the job adds per file (its result rows, the MD5) shows.
"""

from __future__ import annotations

from bench.common import (
    Row,
    Timer,
    bench_user,
    create_job,
    fresh_vault,
    na_rows,
    run_job,
    unavailable,
    vault_profile,
)
from bench.vault_deep import build_hierarchy

NAME = "files_copy"
FORMULATION = "formulation__c"


def sizes(n: int, largest: int) -> list[int]:
    ratio = (largest / 1024) ** (1 / (n - 1))
    return [round(1024 * ratio**i) for i in range(n)]


def _chunks(size: int, seed: int):
    block = bytes((seed + i) % 251 for i in range(64 * 1024))
    left = size
    while left > 0:
        piece = block[: min(left, len(block))]
        left -= len(piece)
        yield piece


def attach(conn, record_ids: list[str], file_sizes: list[int]) -> None:
    for k, size in enumerate(file_sizes):
        rid = record_ids[k % len(record_ids)]
        conn.upload_attachment(FORMULATION, rid, f"bench-{k:02d}.bin", _chunks(size, k), size)


def baseline(conn, sources: list[str], target: str) -> float:
    """Seconds to download and upload every file once, one after the other."""
    with Timer() as t:
        for rid in sources:
            for a in conn.attachments(FORMULATION, rid):
                with conn.download_attachment(FORMULATION, rid, a.id) as chunks:
                    conn.upload_attachment(FORMULATION, target, f"base-{a.name}", chunks, a.size)
    return t.seconds


def run(ctx) -> list[Row]:
    why = unavailable(ctx.sb, "vault")
    if why:
        return na_rows(NAME, ["file MB/s vs download+upload"], why)
    n, largest = (10, 2 * 1024 * 1024) if ctx.quick else (50, 20 * 1024 * 1024)
    # Quick: 4 MB, so the job's fixed cost (its records, one list call each) is most of it: info.
    target = "info" if ctx.quick else ">= 0.8x download+upload"
    return [
        _measure(ctx, n, largest, concurrency=5, target=target),
        # One file at a time, as the baseline goes: what the job's own work per file costs.
        _measure(ctx, n, largest, concurrency=1, target="info"),
    ]


def _measure(ctx, n: int, largest: int, *, concurrency: int, target: str) -> Row:
    from records.connectors import connector_for
    from records.copying.options import CopyOptions
    from records.models import FileResult

    fresh_vault(ctx.sb, ctx.latency)
    ctx.user = ctx.user or bench_user()
    profile = vault_profile(ctx.sb, ctx.user, concurrency=concurrency, name=f"Bench files c{concurrency}")
    conn = connector_for(profile)
    root = build_hierarchy(conn, 5, 0)
    forms = _formulations(conn, root)
    file_sizes = sizes(n, largest)
    attach(conn, forms, file_sizes)
    total_mb = sum(file_sizes) / 1e6
    options = CopyOptions(files=True, engine=True)
    job = create_job(
        ctx, profile, "product__v", [root], "deep_copy", overrides={"name__v": "Bench files copy"}, options=options
    )
    with Timer() as t:
        job = run_job(job)
    copied = FileResult.objects.filter(job=job, status="succeeded").count()
    base_s = baseline(conn, forms, forms[0])
    engine_rate, base_rate = total_mb / t.seconds, total_mb / base_s
    ratio = round(engine_rate / base_rate, 2)
    return Row(
        NAME,
        f"file MB/s, deep copy with {n} attachments ({total_mb:,.0f} MB), profile concurrency {concurrency}",
        round(engine_rate, 1),
        round(base_rate, 1),
        ratio,
        target,
        None if target == "info" else ratio >= 0.8 and copied == n,
        note=f"job {job.status}: {copied} of {n} files; run {t.seconds:.1f} s, baseline {base_s:.1f} s",
    )


def _formulations(conn, product_id: str) -> list[str]:
    return [r.id for r in conn.find(FORMULATION, {"product__c": product_id})]
