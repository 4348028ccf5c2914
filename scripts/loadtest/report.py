"""The load test's report: p50/p95/max per page, the pass rule, and (with --log-views) what the
server spent per view: queries and their time beside the view's own time."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from scripts.loadtest.client import pct

TARGET_MS = 300
PAGES = ("job page", "live part", "rows", "job list", "results.csv", "preview", "plan.json", "preview, plan ready")


def page_table(stats) -> list[str]:
    kinds = [k for k in PAGES if stats.times.get(k)] + sorted(set(stats.times) - set(PAGES))
    out = [f"{'page':<22}{'requests':>9}{'304s':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"]
    for kind in kinds:
        values = stats.times[kind]
        out.append(
            f"{kind:<22}{len(values):>9}{stats.not_modified.get(kind, 0):>6}{pct(values, 50) * 1000:>9.0f}"
            f"{pct(values, 95) * 1000:>9.0f}{max(values) * 1000:>9.0f}"
        )
    return out


def slow_pages(stats) -> list[str]:
    return [k for k, v in stats.times.items() if v and pct(v, 95) * 1000 >= TARGET_MS]


def view_table(path: str) -> list[str]:
    """Per view: requests, p50/p95 of the server's time, p50 of its CPU time, p50/max queries and
    p50/p95 SQL time."""
    file = Path(path)
    if not file.exists():
        return []
    by_view = defaultdict(list)
    for line in file.read_text().splitlines():
        row = json.loads(line)
        by_view[row["view"]].append(row)
    out = [
        f"{'view (server side)':<22}{'requests':>9}{'p50 ms':>8}{'p95 ms':>8}{'cpu p50':>8}{'queries':>9}"
        f"{'max q':>7}{'sql p50':>9}{'sql p95':>9}"
    ]
    for view, rows in sorted(by_view.items(), key=lambda kv: -len(kv[1])):
        ms, q, sql = [r["ms"] for r in rows], [r["queries"] for r in rows], [r["sql_ms"] for r in rows]
        cpu = [r.get("cpu_ms", 0) for r in rows]
        out.append(
            f"{view[:22]:<22}{len(rows):>9}{pct(ms, 50):>8.0f}{pct(ms, 95):>8.0f}{pct(cpu, 50):>8.0f}{pct(q, 50):>9}{max(q):>7}"
            f"{pct(sql, 50):>9.1f}{pct(sql, 95):>9.1f}"
        )
    return out
