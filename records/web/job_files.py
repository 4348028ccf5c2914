"""The job page's files: what the preview counted and chose, and, when files were copied, each
file's outcome (a grouped count and the first files, only then: a job without files costs the page
nothing)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Sum

from records.copying import preview_files
from records.models import CopyJob, FileResult

FILES_SHOWN = 100  # the first files, one row each; the counts above cover them all


def files_summary(job: CopyJob) -> dict[str, Any] | None:
    planned = (job.plan or {}).get("files") or {}
    if not planned:
        return None
    summary: dict[str, Any] = {"lines": preview_files.summary_lines(planned), "copy": bool(planned.get("copy"))}
    if planned.get("copy"):
        rows = FileResult.objects.filter(job=job).values("status").annotate(n=Count("id"), size=Sum("size"))
        words = dict(FileResult.Status.choices)
        summary["outcomes"] = [
            {"label": words.get(r["status"], r["status"]), "count": r["n"], "bytes": r["size"] or 0} for r in rows
        ]
        summary["rows"] = list(FileResult.objects.filter(job=job).select_related("row")[:FILES_SHOWN])
    return summary
