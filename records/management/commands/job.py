"""`job show ID [--json]`, `job cancel ID`, `job retry ID` (= `job resume ID`), `job undo ID`, `job resume-stale`.

The same rules as the web and the admin (CopyJob.can_*), checked by the services."""

import json
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from records.copying import services
from records.management.commands._cli import exit_code, job_as_dict, print_job, require_queue
from records.models import CopyJob


class Command(BaseCommand):
    help = "Show and act on copy jobs; resume jobs whose worker died."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("show")
        show.add_argument("id")
        show.add_argument("--json", action="store_true")
        for name in ("cancel", "retry", "resume", "undo"):
            p = sub.add_parser(name)
            p.add_argument("id")
            p.add_argument("--json", action="store_true")
        sub.add_parser("resume-stale")

    def handle(self, *args, **opts):
        action = opts["action"]
        if action != "show":
            require_queue(self.stderr)
        if action == "resume-stale":
            jobs = services.jobs_resume_stale()
            for job in jobs:
                self.stdout.write(f"Resumed job {job.pk} ({job.status})")
            self.stdout.write(f"{len(jobs)} job(s) resumed.")
            sys.exit(0)
        job = self._job(opts["id"])
        if action == "show":
            if opts["json"]:
                self.stdout.write(json.dumps(job_as_dict(job), default=str))
            else:
                print_job(self.stdout, job)
            sys.exit(exit_code(job))
        service = {
            "cancel": services.copy_job_cancel,
            "retry": services.copy_job_retry,
            "resume": services.copy_job_retry,
            "undo": services.copy_job_undo,
        }[action]
        try:
            result = service(job=job, user=job.requested_by)
        except ValidationError as exc:
            self.stderr.write(" ".join(exc.messages))
            sys.exit(2)
        if opts.get("json"):
            self.stdout.write(json.dumps(job_as_dict(result), default=str))
        else:
            print_job(self.stdout, result)
        sys.exit(0)

    def _job(self, ident):
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
