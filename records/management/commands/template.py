"""`template list [--json] [--user U]`, `template show NAME [--json] [--user U]` (with its versions),
`template save NAME --from-job ID [--description TEXT] --user U`, `template share NAME (--with USER |
--group GROUP) --user U`, `template diff NAME V1 V2 [--user U]`, `template schedule NAME (--cron EXPR |
--every SECONDS) (--ids ID... | --where FILTER [--limit N]) [--tz ZONE] --user U`, `template unschedule
NAME [--id N] --user U` (without --id: every schedule of the template the user may change). Running
one is `copy --template NAME`; `show` lists its schedules with their next five times.

Without --user, list and show see every template (the command runs on the server, as `job` does);
NAME is the user's own template of that name, else one shared with them (OWNER/NAME picks one).
Exit 0, or 2 for bad input (one line on stderr)."""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from records.copy_templates import services
from records.copy_templates.diff import version_diff
from records.copy_templates.shown import template_as_dict
from records.models import CopyJob, CopyTemplate
from records.schedules.commands import (
    add_schedule_parsers,
    schedule_from_options,
    schedule_lines,
    shown_schedules,
    unschedule_from_options,
)
from records.schedules.shown import schedule_as_dict

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class BadInput(Exception):
    pass


class Command(BaseCommand):
    help = "List, show, save, share, compare and schedule saved copy templates."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list")
        listing.add_argument("--json", action="store_true")
        show = sub.add_parser("show")
        show.add_argument("name")
        show.add_argument("--json", action="store_true")
        save = sub.add_parser("save", help="save a job's copy as a template")
        save.add_argument("name")
        save.add_argument("--from-job", required=True, dest="job", metavar="ID")
        save.add_argument("--description", default="")
        share = sub.add_parser("share")
        share.add_argument("name")
        who = share.add_mutually_exclusive_group(required=True)
        who.add_argument("--with", dest="with_user", metavar="USER")
        who.add_argument("--group", metavar="GROUP")
        diff = sub.add_parser("diff", help="what changed between two versions")
        diff.add_argument("name")
        diff.add_argument("v1", type=int)
        diff.add_argument("v2", type=int)
        schedule, unschedule = add_schedule_parsers(sub)
        for p in (listing, show, save, share, diff, schedule, unschedule):
            required = p in (save, share, schedule, unschedule)
            p.add_argument("--user", required=required, help="the user acting (and whose templates)")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, f"_{opts['action']}")(opts)
        except BadInput as exc:
            self.stderr.write(str(exc))
            sys.exit(2)
        except ValidationError as exc:
            self.stderr.write(" ".join(exc.messages))
            sys.exit(2)

    def _list(self, opts: dict[str, Any]) -> None:
        templates = self._visible(opts).select_related("owner")
        if opts["json"]:
            self.stdout.write(json.dumps([template_as_dict(t) for t in templates]))
            return
        for t in templates:
            shown = template_as_dict(t)
            self.stdout.write(f"{t.name}  v{shown['version']}  ({t.owner.username})  {shown['summary']}")

    def _show(self, opts: dict[str, Any]) -> None:
        template = self._template(opts)
        data = template_as_dict(template, versions=True)
        user = self._user(opts) if opts.get("user") else None
        data["schedules"] = [schedule_as_dict(s) for s in shown_schedules(template=template, user=user)]
        if opts["json"]:
            self.stdout.write(json.dumps(data, default=str))
            return
        self.stdout.write(f"{template.name} ({template.owner.username}): {data['summary']}")
        if template.description:
            self.stdout.write(template.description)
        for v in data["versions"]:
            jobs = ", ".join(str(j) for j in v["jobs"]) or "none"
            self.stdout.write(f"  v{v['number']}  {v['created']}  by {v['created_by']}  jobs: {jobs}")
        for line in schedule_lines(data["schedules"]):
            self.stdout.write(line)

    def _schedule(self, opts: dict[str, Any]) -> None:
        schedule = schedule_from_options(template=self._template(opts), user=self._user(opts), opts=opts)
        self.stdout.write(f"Scheduled {schedule.template.name} {schedule.cadence} (schedule {schedule.pk}).")
        for line in schedule_lines([schedule_as_dict(schedule)]):
            self.stdout.write(line)

    def _unschedule(self, opts: dict[str, Any]) -> None:
        removed = unschedule_from_options(template=self._template(opts), user=self._user(opts), opts=opts)
        self.stdout.write(f"Removed {removed} schedule{'s' if removed != 1 else ''} of {opts['name']}.")

    def _save(self, opts: dict[str, Any]) -> None:
        user = self._user(opts)
        job = CopyJob.objects.filter(pk=opts["job"]).first() if str(opts["job"]).isdigit() else None
        if job is None:
            raise BadInput(f"No job {opts['job']}.")
        template = services.save_from_job(job=job, name=opts["name"], description=opts["description"], user=user)
        self.stdout.write(f"Saved template {template.name} (version 1) from job {job.pk}.")

    def _share(self, opts: dict[str, Any]) -> None:
        by = self._user(opts)
        template = self._template(opts)
        if opts["with_user"]:
            services.share(template=template, by=by, user=self._named_user(opts["with_user"]))
        else:
            group = Group.objects.filter(name=opts["group"]).first()
            if group is None:
                raise BadInput(f"No group named {opts['group']!r}.")
            services.share(template=template, by=by, group=group)
        self.stdout.write(f"Shared {template.name} with {opts['with_user'] or opts['group']}.")

    def _diff(self, opts: dict[str, Any]) -> None:
        template = self._template(opts)
        versions = {v.number: v for v in template.versions.filter(number__in=[opts["v1"], opts["v2"]])}
        for number in (opts["v1"], opts["v2"]):
            if number not in versions:
                raise BadInput(f"{template.name} has no version {number}.")
        lines = version_diff(versions[opts["v1"]], versions[opts["v2"]])
        for line in lines or ["The two versions make the same copy."]:
            self.stdout.write(line)

    def _visible(self, opts: dict[str, Any]) -> Any:
        if opts.get("user"):
            return CopyTemplate.objects.for_user(self._user(opts))
        return CopyTemplate.objects.all()

    def _template(self, opts: dict[str, Any]) -> CopyTemplate:
        if opts.get("user"):
            return services.find_template(name=opts["name"], user=self._user(opts))
        found = CopyTemplate.objects.filter(name=opts["name"])
        if found.count() != 1:
            raise BadInput(f"No single template named {opts['name']!r}: add --user to say whose.")
        return found.get()

    def _user(self, opts: dict[str, Any]) -> User:
        return self._named_user(opts["user"])

    def _named_user(self, username: str) -> User:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise BadInput(f"No user named {username!r}.")
        return user
