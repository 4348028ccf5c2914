"""Helpers shared by the management commands: command-line parsing and the JSON shape of a job.
Not a command itself (the leading underscore keeps Django from listing it)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import django_rq
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import OutputWrapper
from redis.exceptions import RedisError

from records.connectors.base import FieldInfo
from records.copying.job_words import status_words
from records.copying.validation import coerce_override
from records.models import CopyJob
from records.ops.embedded_redis import EmbeddedRedis


def parse_overrides(*, fields: list[FieldInfo], set_values: list[str], clear: list[str]) -> dict[str, Any]:
    """Turn `--set F=V` / `--clear F` into typed overrides (ValidationError on a malformed one)."""
    infos = {f.name: f for f in fields}
    out: dict[str, Any] = {}
    for item in set_values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValidationError(f"--set expects FIELD=VALUE, got {item!r}.")
        out[name.strip()] = coerce_override(infos.get(name.strip()), value)
    for name in clear:
        out[name.strip()] = None
    return out


def job_as_dict(job: CopyJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "code": str(job.code),
        "status": job.status,
        "status_words": status_words(job),
        "resume_at": job.resume_at.isoformat() if job.resume_at else None,
        "undo_job": job.undo_job_id,
        "mode": job.mode,
        "object": job.object_name,
        "source_ids": job.source_ids,
        "target": job.target_profile.name if job.target_profile_id and job.target_profile else None,
        "parent_job": job.parent_job_id,
        "counts": {
            "planned": job.planned_count,
            "succeeded": job.succeeded_count,
            "failed": job.failed_count,
            "done": job.done_count,
        },
        "error_summary": job.error_summary,
        "results": [
            {
                "row": r.pk,
                "object": r.object_name,
                "source_id": r.source_id,
                "new_id": r.new_id,
                "parent_source_id": r.parent_source_id,
                "status": r.status,
                "error_type": r.error_type,
                "error_message": r.error_message,
                "values": r.values,
                "fixes": r.fixes,
                # What the row did in the target: created, skipped or updated (and the fields changed).
                "action": _ACTION_WORDS.get(r.action, "") if r.status == r.Status.SUCCEEDED else "",
                "changed": sorted(r.previous or {}),
                # A row that needs review: the records that could be its copy (job resolve).
                **({"candidates": r.candidates} if r.candidates else {}),
            }
            for r in job.results.defer("source_snapshot").order_by("depth", "id")
        ],
    }


_ACTION_WORDS = {"create": "created", "skip": "skipped", "update": "updated"}


def exit_code(job: CopyJob) -> int:
    return 0 if job.status in (CopyJob.Status.SUCCEEDED, CopyJob.Status.UNDONE) else 1


def print_job(out: OutputWrapper, job: CopyJob) -> None:
    out.write(f"Job {job.pk} ({job.code}): {job.get_mode_display()} {job.object_name} {job.source_ids}")
    out.write(
        f"Status: {job.status}  done {job.done_count}/{job.planned_count}  "
        f"succeeded {job.succeeded_count}  failed {job.failed_count}"
    )
    out.write(status_words(job))
    if job.error_summary:
        out.write(f"Error: {job.error_summary}")


def require_queue(err: OutputWrapper) -> None:
    """Commands that queue work need Redis. With REDIS_URL unset they start the embedded one on
    its default socket, as `runapp` does (it keeps running for the worker); with REDIS_URL set
    and nothing answering, one line saying what to start (exit 2), not a traceback."""
    try:
        django_rq.get_connection("default").ping()
        return
    except (RedisError, OSError):
        pass
    url = settings.RQ_QUEUES["default"].get("URL", "")
    if "REDIS_URL" not in os.environ:
        try:
            EmbeddedRedis(socket_path=settings.REDIS_SOCKET, data_dir=Path(settings.VAR_DIR) / "redis").start()
        except (RuntimeError, OSError) as exc:
            err.write(f"No Redis at {url} and the embedded one did not start ({exc}): set REDIS_URL.")
            sys.exit(2)
        err.write(f"Started the embedded Redis at {url}; a worker (`manage.py rqworker default`) runs the job.")
        return
    err.write(f"No Redis at {url}: start redis-server (or `manage.py runapp`), or use `copy --sync`.")
    sys.exit(2)


def wait_for(job: CopyJob, timeout: float) -> CopyJob:
    """The job once it has finished, or as it is after `timeout` seconds (`--wait`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(0.5)
    return job
