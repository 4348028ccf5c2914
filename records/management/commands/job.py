"""`job show ID [--json]`, `job cancel ID`, `job resume ID` (`job retry`, its older name, still works
but is no longer listed), `job undo ID`, `job resume-stale`, `job resolve ID ROW --pick NEW_ID | --none [--user NAME]
[--json]` (a row that needs review: its copy is NEW_ID, one of its candidates, or none of them; ROW
is the row's id as `job show --json` lists it, or its source record id).

`job approve ID --user U [--sync|--wait]` and `job reject ID --user U [--reason TEXT]` decide a
copy into a protected profile (records/copying/approval.py).

`job undo ID --preview` lists what an undo would delete and keep (and why) without queuing it;
`--include-changed` (undo, and resume of an undo) deletes records changed since the copy too;
`--restore-updated` (undo of a copy into another profile) writes back the records it updated.
`job fix ID (--row ROW... | --all-failed) (--set F=V... | --make-unique F) [--resume] [--user NAME]
[--json]` corrects failed rows (a value, a template such as "{name__v} B", or the first free " (n)")
and, with --resume, resumes the job.

The same rules as the web and the admin (copying/job_rules.py), checked by the services."""

from __future__ import annotations

import json
import os
import sys
from argparse import ArgumentParser
from typing import TYPE_CHECKING, Any, NoReturn

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from records.copying import approval, job_actions
from records.copying.review import copy_row_resolve
from records.copying.row_fixes import copy_rows_fix, copy_rows_fix_and_resume
from records.management.commands._cli import (
    exit_code,
    job_as_dict,
    parse_overrides,
    print_job,
    require_queue,
    wait_for,
)
from records.models import CopyJob, RecordResult

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class Command(BaseCommand):
    help = "Show and act on copy jobs; resume jobs whose worker died."

    def add_arguments(self, parser: ArgumentParser) -> None:
        # "retry" (resume's older name) works but is not listed.
        sub = parser.add_subparsers(
            dest="action", required=True, metavar="{show,cancel,resume,undo,resume-stale,resolve,fix}"
        )
        show = sub.add_parser("show")
        show.add_argument("id")
        show.add_argument("--json", action="store_true")
        for name in ("cancel", "resume", "undo"):
            # "retry": the older name of resume, kept for scripts that use it.
            p = sub.add_parser(name, aliases=["retry"] if name == "resume" else [])
            p.add_argument("id")
            p.add_argument("--json", action="store_true")
            if name != "cancel":
                p.add_argument(
                    "--include-changed",
                    action="store_true",
                    help="also delete records changed since the copy (an undo, or resuming one)",
                )
            if name == "undo":
                p.add_argument(
                    "--preview", action="store_true", help="list what would be deleted and kept; queue nothing"
                )
                p.add_argument(
                    "--restore-updated",
                    action="store_true",
                    help="a copy into another profile: also write back the values of the records it updated",
                )
        approve = sub.add_parser("approve", help="approve a copy into a protected profile")
        approve.add_argument("id")
        approve.add_argument(
            "--user", required=True, help="who approves: holds records.approve_copy, not the requester"
        )
        run = approve.add_mutually_exclusive_group()
        run.add_argument("--sync", action="store_true", help="run it in this process, as a worker would")
        run.add_argument("--wait", action="store_true", help="queue it and wait for a worker to finish it")
        approve.add_argument("--timeout", type=float, default=3600, help="seconds --wait waits")
        approve.add_argument("--json", action="store_true")
        reject = sub.add_parser("reject", help="reject a copy into a protected profile")
        reject.add_argument("id")
        reject.add_argument("--user", required=True, help="who rejects: holds records.approve_copy")
        reject.add_argument("--reason", default="", help="why, shown on the job")
        reject.add_argument("--json", action="store_true")
        sub.add_parser("resume-stale")
        resolve = sub.add_parser("resolve", help="pick the copy of a row that needs review, or none")
        resolve.add_argument("id")
        resolve.add_argument("row", help="the row's id (job show --json) or its source record id")
        choice = resolve.add_mutually_exclusive_group(required=True)
        choice.add_argument("--pick", metavar="NEW_ID", help="the candidate that is the copy")
        choice.add_argument("--none", action="store_true", help="none of them: the row is sent again on resume")
        resolve.add_argument("--user", help="who resolves (default: who requested the job)")
        resolve.add_argument("--json", action="store_true")
        _add_fix(sub)

    def handle(self, *args: Any, **opts: Any) -> None:
        action = "resume" if opts["action"] == "retry" else opts["action"]
        if _queues(action, opts):
            require_queue(self.stderr)
        if action == "resume-stale":
            jobs = job_actions.jobs_resume_stale()
            for job in jobs:
                self.stdout.write(f"Resumed job {job.pk} ({job.status})")
            self.stdout.write(f"{len(jobs)} job(s) resumed.")
            sys.exit(0)
        job = self._job(opts["id"])
        if action == "show":
            self._print(job, as_json=opts["json"])
            sys.exit(exit_code(job))
        own = {"resolve": self._resolve, "fix": self._fix}.get(action)
        if own is not None:
            own(job, opts)
        if action in ("approve", "reject"):
            self._decide(job, action, opts)
        if action == "undo" and opts["preview"]:
            self._preview(job, as_json=opts["json"])
            sys.exit(0)
        extra = {k: True for k in ("include_changed", "restore_updated") if opts.get(k)}
        service = {
            "cancel": job_actions.copy_job_cancel,
            "resume": job_actions.copy_job_resume,
            "undo": job_actions.copy_job_undo,
        }[action]
        try:
            result = service(job=job, user=job.requested_by, **extra)
        except ValidationError as exc:
            self.stderr.write(" ".join(exc.messages))
            sys.exit(2)
        self._print(result, as_json=opts.get("json", False))
        sys.exit(0)

    def _resolve(self, job: CopyJob, opts: dict[str, Any]) -> NoReturn:
        row, user = self._row(job, opts["row"]), self._user(job, opts["user"])
        try:
            copy_row_resolve(job=job, row=row, pick=None if opts["none"] else opts["pick"], user=user)
        except ValidationError as exc:
            self.stderr.write(" ".join(exc.messages))
            sys.exit(2)
        job.refresh_from_db()
        self._print(job, as_json=opts["json"])
        sys.exit(0)

    def _decide(self, job: CopyJob, action: str, opts: dict[str, Any]) -> NoReturn:
        user = self._user(job, opts["user"])
        try:
            if action == "reject":
                job = approval.copy_job_reject(job=job, user=user, reason=opts["reason"])
            else:
                job = approval.copy_job_approve(job=job, user=user, enqueue=not opts["sync"])
        except ValidationError as exc:
            self.stderr.write(" ".join(exc.messages))
            sys.exit(2)
        if opts.get("sync"):
            job = job_actions.copy_job_run(job_id=job.pk, worker_id=f"sync:{os.getpid()}")
        elif opts.get("wait"):
            job = wait_for(job, opts["timeout"])
        self._print(job, as_json=opts["json"])
        sys.exit(exit_code(job) if opts.get("sync") or opts.get("wait") else 0)

    def _print(self, job: CopyJob, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(job_as_dict(job), default=str))
        else:
            print_job(self.stdout, job)

    def _fix(self, job: CopyJob, opts: dict[str, Any]) -> NoReturn:
        user = self._user(job, opts["user"])
        service = copy_rows_fix_and_resume if opts["resume"] else copy_rows_fix
        rows = [] if opts["all_failed"] else [self._row(job, ident).pk for ident in opts["row"]]
        try:
            values = parse_overrides(fields=[], set_values=opts["set"] or [], clear=[])
            made = service(
                job=job,
                user=user,
                rows=rows,
                all_failed=opts["all_failed"],
                values=values,
                make_unique=opts["make_unique"] or "",
            )
        except ValidationError as exc:
            self.stderr.write(" ".join(exc.messages))
            sys.exit(2)
        job.refresh_from_db()
        if opts["json"]:
            self.stdout.write(json.dumps(job_as_dict(job), default=str))
        else:
            for fix in made:
                self.stdout.write(f"Row {fix.row_id}: {fix.field} {fix.before!r} → {fix.after!r}")
            print_job(self.stdout, job)
        sys.exit(0)

    def _row(self, job: CopyJob, ident: str) -> RecordResult:
        rows = job.results.defer("source_snapshot")
        row = rows.filter(pk=int(ident)).first() if ident.isdigit() and len(ident) < 10 else None
        matches = [row] if row else list(rows.filter(source_id=ident)[:2])
        if len(matches) != 1:
            self.stderr.write(f"Job {job.pk} has {'no' if not matches else 'more than one'} row {ident!r}.")
            sys.exit(2)
        return matches[0]

    def _user(self, job: CopyJob, username: str | None) -> User:
        if not username:
            return job.requested_by
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            self.stderr.write(f"No user named {username!r}.")
            sys.exit(2)
        return user

    def _preview(self, job: CopyJob, *, as_json: bool) -> None:
        try:
            preview = job_actions.undo_preview(job=job, user=job.requested_by)
        except ValidationError as exc:
            self.stderr.write(" ".join(exc.messages))
            sys.exit(2)
        if as_json:
            self.stdout.write(json.dumps(preview.as_dict()))
            return
        sections = (
            ("Will be deleted", preview.delete),
            ("Changed since the copy — kept unless --include-changed", preview.changed),
            ("Kept: never deleted", preview.kept),
            ("Already gone", preview.gone),
        )
        for title, lines in sections:
            if lines:
                self.stdout.write(f"{title} ({len(lines)}):")
                for line in lines:
                    reason = f"  {line.reason}" if line.reason else ""
                    self.stdout.write(f"  {line.object_name} {line.record_id} {line.name}{reason}")
        if preview.restore:
            self.stdout.write(f"Updated by the copy — written back with --restore-updated ({len(preview.restore)}):")
            for item in preview.restore:
                old = ", ".join(f"{k}={v!r}" for k, v in sorted(item["previous"].items()))
                self.stdout.write(f"  {item['object_name']} {item['record_id']} {item['name']}  {old}")
                if item.get("masked"):
                    self.stdout.write(
                        f"    can't restore {', '.join(item['masked'])}: masked, the stand-in written is not stored"
                        " (the field keeps its value)"
                    )
        self._files(preview.files)
        if preview.unchecked:
            self.stdout.write(
                f"{preview.unchecked} more record(s) not read now: the undo checks them under the same rules."
            )

    def _files(self, files: list[dict[str, Any]]) -> None:
        if files:
            self.stdout.write(f"Files the copy added to records it kept ({len(files)}):")
        for f in files:
            what = f"{f['name']} ({f['field_name']})" if f["field_name"] else f["name"]
            verdict = "deleted" if f["deleted"] else "kept"
            self.stdout.write(f"  {f['object_name']} {f['record_id']} {what}: {verdict}, {f['reason']}")

    def _job(self, ident: str) -> CopyJob:
        job = None
        if ident.isdigit():
            job = CopyJob.objects.filter(pk=int(ident)).first()
        else:
            try:
                job = CopyJob.objects.filter(code=ident).first()
            except ValidationError:
                job = None
        if job is None:
            self.stderr.write(f"No job {ident!r}.")
            sys.exit(2)
        return job


def _add_fix(sub: Any) -> None:
    fix = sub.add_parser("fix", help="correct the values of failed rows, then (--resume) resume the job")
    fix.add_argument("id")
    rows = fix.add_mutually_exclusive_group(required=True)
    rows.add_argument("--row", nargs="+", help="the rows' ids (job show --json) or their source record ids")
    rows.add_argument("--all-failed", action="store_true", help="every failed row")
    how = fix.add_mutually_exclusive_group(required=True)
    how.add_argument("--set", action="append", metavar="FIELD=VALUE", help="a value or a template ({FIELD})")
    how.add_argument("--make-unique", metavar="FIELD", help="number the row's value: the first free ' (n)'")
    fix.add_argument("--resume", action="store_true", help="resume the job after the fix")
    fix.add_argument("--user", help="who fixes (default: who requested the job)")
    fix.add_argument("--json", action="store_true")


def _queues(action: str, opts: dict[str, Any]) -> bool:
    """Whether the action needs the queue: a pick, a preview, a rejection, a fix without --resume
    and a synchronous approval don't."""
    if action == "fix":
        return bool(opts.get("resume"))
    return action not in ("show", "resolve", "reject") and not (opts.get("preview") or opts.get("sync"))
