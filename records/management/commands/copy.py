"""`copy PROFILE OBJECT (RECORD_ID...|--where FILTER [--limit N]) [--to TARGET] [--deep] [--set F=V]...
[--clear F]... [--match OBJECT:FIELD]... [--unmatched [OBJECT:]CHOICE]... [--existing E] [--map-user A=B]...
[--mask [OBJECT:]FIELD=RULE]... [--mask-suggested] [--preview] [--sync|--wait] [--json]`.

`copy --template NAME RECORD_ID... --user U [--to TARGET] [any choice above] [--preview] [--sync|--wait]
[--json]` runs a saved template (records/copy_templates/) on these records (none: its saved filter);
every choice given overrides the template's for this run.

Exit 0 when the job succeeded, 1 when it failed or partly failed, 2 for bad input (one line on stderr),
--match/--unmatched/--existing/--map-user without --to included (CopyRequest refuses them).
"""

from __future__ import annotations

import json
import os
import sys
from argparse import ArgumentParser
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from records.connectors import connector_for
from records.connectors.base import Connector
from records.connectors.errors import ConnectorError
from records.copy_templates import services
from records.copy_templates.definition import saved_request
from records.copying import mask_choices, mask_confirm, preview_files, source_query
from records.copying.job_actions import copy_job_run
from records.copying.job_create import copy_job_create
from records.copying.options import CopyOptions, parse_cli, parse_cross_cli
from records.copying.preview import copy_preview
from records.copying.request import CopyRequest
from records.management.commands._cli import exit_code, job_as_dict, print_job, require_queue, wait_for
from records.masking import rules as masking_rules
from records.models import ConnectionProfile, CopyJob

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from records.copying.tree import Plan


class BadInput(Exception):
    pass


# The plan speaks the preview's words (its boxes' labels); the command names its flags instead.
BOX_FLAGS = {
    "Build the hierarchy level by level": "--engine",
    "Let workflows, approvals and blueprints fire on inserted copies": "--run-workflows",
}


def in_flags(text: str) -> str:
    """`text` with "tick “<box>”" as "add <flag>", and "“<box>” is ticked" as "<flag>"."""
    for label, flag in BOX_FLAGS.items():
        text = text.replace(f"tick “{label}”", f"add {flag}").replace(f"“{label}” is ticked", flag)
    return text


class Command(BaseCommand):
    help = "Clone or deep-copy records through a connection profile."

    def add_arguments(self, parser: ArgumentParser) -> None:
        # With --template the positional words are all record ids (the template names the rest).
        parser.add_argument("profile", nargs="?")
        parser.add_argument("object", nargs="?")
        parser.add_argument("record_ids", nargs="*")
        parser.add_argument("--template", metavar="NAME", help="run this saved template (see `template list`)")
        parser.add_argument("--deep", action="store_true", help="deep copy (with related records)")
        parser.add_argument(
            "--set",
            action="append",
            default=[],
            dest="set_values",
            metavar="[OBJECT:]FIELD=VALUE",
            help="a value (or template: {FIELD}, {today}, {job}, {{ }}) for the top record, "
            "or with OBJECT: for every copied record of that object",
        )
        parser.add_argument("--clear", action="append", default=[], metavar="[OBJECT:]FIELD")
        add_choice_arguments(parser)
        add_cross_arguments(parser)
        parser.add_argument("--user", help="the user the job runs as (default: the profile's owner)")
        parser.add_argument("--preview", action="store_true", help="print the plan; queue nothing")
        run = parser.add_mutually_exclusive_group()
        run.add_argument("--sync", action="store_true", help="run in this process, as a worker would")
        run.add_argument("--wait", action="store_true", help="queue and wait for a worker to finish it")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds --wait waits")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            code = self._handle(opts)
        except BadInput as exc:
            self.stderr.write(str(exc).replace("\n", " "))
            code = 2
        sys.exit(code)

    def _handle(self, opts: dict[str, Any]) -> int:
        if not (opts["sync"] or opts["preview"]):
            require_queue(self.stderr)
        if opts["template"]:
            return self._run_template(opts)
        if not opts["object"]:
            raise BadInput("Give the PROFILE and OBJECT to copy from (or --template NAME).")
        profile = ConnectionProfile.objects.filter(name=opts["profile"]).first()
        if profile is None:
            raise BadInput(f"No connection profile named {opts['profile']!r}.")
        user = self._user(opts["user"], profile)
        mode = CopyJob.Mode.DEEP_COPY if opts["deep"] else CopyJob.Mode.CLONE
        try:
            connector = connector_for(profile)
            overrides, options = parse_choices(opts, connector, profile)
            request = CopyRequest(
                profile=profile,
                target=self._target(opts["to"]),
                object_name=opts["object"],
                source_ids=opts["record_ids"],
                mode=mode,
                overrides=overrides,
                options=options,
            )
            if opts["preview"]:
                return self._preview(request, connector, opts["json"], user)
            mask_confirm.require_confirmed(request=request, connector=connector, user=user)
            job = copy_job_create(request=request, user=user, enqueue=not opts["sync"], connector=connector)
        except ValidationError as exc:
            raise BadInput(in_flags(" ".join(exc.messages))) from exc
        except ConnectorError as exc:
            raise BadInput(str(exc)) from exc
        return self._follow(job, opts)

    def _run_template(self, opts: dict[str, Any]) -> int:
        """`copy --template NAME ID...`: the template's copy, this run's choices over it."""
        ids = [i for i in (opts["profile"], opts["object"], *opts["record_ids"]) if i]
        try:
            user = self._template_user(opts["user"])
            template = services.find_template(name=opts["template"], user=user)
            version = services.latest_version(template)
            saved = saved_request(version.definition, user=user, name=template.name)
            connector = connector_for(saved.profile)
            overrides, options = parse_choices({**opts, "object": saved.object_name}, connector, saved.profile)
            request = services.run_request(
                template=template,
                version=version,
                user=user,
                source_ids=ids,
                target=self._target(opts["to"]),
                mode=CopyJob.Mode.DEEP_COPY if opts["deep"] else "",
                overrides=overrides,
                options=options,
                connector=connector,
            )
            if opts["preview"]:
                return self._preview(request, connector, opts["json"], user)
            services.refuse_more_than_the_limit(request=request, connector=connector)
            mask_confirm.require_confirmed(request=request, connector=connector, user=user)
            job = services.run(
                template=template,
                version=version,
                request=request,
                user=user,
                enqueue=not opts["sync"],
                connector=connector,
            )
        except ValidationError as exc:
            raise BadInput(in_flags(" ".join(exc.messages))) from exc
        except ConnectorError as exc:
            raise BadInput(str(exc)) from exc
        return self._follow(job, opts)

    def _template_user(self, username: str | None) -> User:
        if not username:
            raise BadInput("--template needs --user: the user the job runs as.")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise BadInput(f"No user named {username!r}.")
        return user

    def _preview(self, request: CopyRequest, connector: Connector, as_json: bool, user: User) -> int:
        request.check_access(user)  # a preview reads the target too: not for a user who may not use it
        plan = copy_preview(request=request, connector=connector)
        table = mask_confirm.suggestion_table(request=request, plan=plan, connector=connector)
        left = mask_choices.unconfirmed_rows(table, request.options)
        refused = mask_confirm.refusal(request=request, plan=plan, connector=connector)
        if as_json:
            suggested = [{"object": o, "field": r.field, "rule": r.rule} for o, rows in left.items() for r in rows]
            shown = {**plan.as_dict(), "mask_unconfirmed": suggested, "mask_refusal": refused}
            self.stdout.write(json.dumps(shown, default=str))
            return 2 if plan.refused_reason else 0
        self._print_plan(plan)
        for line in [*suggestion_lines(left), *([f"Note: {refused}"] if refused else [])]:
            self.stdout.write(line)
        return 2 if plan.refused_reason else 0

    def _follow(self, job: CopyJob, opts: dict[str, Any]) -> int:
        """The job printed as it ends (--sync runs it here, --wait waits), or as queued."""
        if job.status == CopyJob.Status.AWAITING_APPROVAL:
            self._print_job(job, opts["json"])  # nothing is written until an approver decides
            return 1
        if opts["sync"]:
            job = copy_job_run(job_id=job.pk, worker_id=f"sync:{os.getpid()}")
        elif opts["wait"]:
            job = wait_for(job, opts["timeout"])
        else:
            job.refresh_from_db()
        self._print_job(job, opts["json"])
        if not (opts["sync"] or opts["wait"]):
            return 0
        return exit_code(job)

    def _target(self, name: str | None) -> ConnectionProfile | None:
        if not name:
            return None
        target = ConnectionProfile.objects.filter(name=name).first()
        if target is None:
            raise BadInput(f"No connection profile named {name!r} to copy into.")
        return target

    def _user(self, username: str | None, profile: ConnectionProfile) -> User:
        if not username:
            return profile.owner
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise BadInput(f"No user named {username!r}.")
        if not ConnectionProfile.objects.for_user(user).filter(pk=profile.pk).exists():
            raise BadInput(f"User {username!r} may not use profile {profile.name!r}.")
        return user

    def _print_plan(self, plan: Plan) -> None:
        for o in plan.objects:
            self.stdout.write(f"{'  ' * o.depth}{o.object_name}: {o.count}")
        self.stdout.write(f"Total: {plan.total}")
        for c in plan.changes:
            self.stdout.write(f"  {c.field}: {c.old!r} -> {c.new!r}")
        for sample in plan.samples:
            self.stdout.write(
                f"  {sample['object_name']} {sample['source_id']}: {sample['field']} = {sample['value']!r}"
            )
        if plan.way:
            self.stdout.write(f"How: {in_flags(plan.way)}")
        for line in masking_lines(plan.masking):
            self.stdout.write(line)
        for warning in [*plan.warnings, *plan.notes]:
            self.stdout.write(f"Note: {in_flags(warning)}")
        # A copy by query: what matched; into another profile: what the target holds; the files.
        for line in [
            *source_query.report_lines(plan.cross.get("query") or {}),
            *plan.cross.get("report", []),
            *preview_files.summary_lines(plan.files),
        ]:
            self.stdout.write(line)
        if plan.refused_reason:
            self.stderr.write(in_flags(plan.refused_reason))

    def _print_job(self, job: CopyJob, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(job_as_dict(job), default=str))
        else:
            print_job(self.stdout, job)


FLAGS = ("skip_cadences", "run_workflows", "migration_mode", "no_triggers", "engine", "files")


def add_choice_arguments(parser: ArgumentParser) -> None:
    """The copy options (records/copying/options.py); kept together so they can move to a shared module."""
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="OBJECT",
        help="leave out this related object's records and everything below them",
    )
    parser.add_argument(
        "--unique",
        action="append",
        default=[],
        metavar="[OBJECT:]FIELD",
        help='on a duplicate, retry with " (2)", " (3)" ... (at most 20 tries)',
    )
    parser.add_argument(
        "--lineage",
        action="append",
        default=[],
        metavar="OBJECT[:FIELD]",
        help='write "Copied from <id> by Record Copier job <n>" into FIELD of every copy',
    )
    parser.add_argument("--engine", action="store_true", help="Vault: build the hierarchy level by level")
    parser.add_argument("--skip-cadences", action="store_true", help="Zoho: don't start cadences on the copies")
    parser.add_argument("--run-workflows", action="store_true", help="Zoho: let workflows fire on inserted copies")
    parser.add_argument("--migration-mode", action="store_true", help="Vault: X-VaultAPI-MigrationMode")
    parser.add_argument("--no-triggers", action="store_true", help="Vault: X-VaultAPI-NoTriggers")
    parser.add_argument(
        "--mask",
        action="append",
        default=[],
        metavar="[OBJECT:]FIELD=RULE",
        help=f"write a consistent stand-in instead of the value ({', '.join(masking_rules.RULES)})",
    )
    parser.add_argument(
        "--mask-suggested", action="store_true", help="mask every field that looks personal with its suggested rule"
    )
    parser.add_argument(
        "--attachments",
        dest="files",
        action="store_true",
        help="copy the attachments of every copied record (without it none are copied)",
    )


def add_cross_arguments(parser: ArgumentParser) -> None:
    """A copy into another profile and a copy by query (records/copying/cross_plan.py, source_query.py)."""
    parser.add_argument("--to", metavar="TARGET", help="copy into this profile of the same system")
    parser.add_argument(
        "--where",
        default="",
        metavar="FILTER",
        help="copy the records matching this filter instead of ids (Vault: a VQL WHERE; Zoho: criteria "
        "such as (Industry:equals:Retail), run as COQL: equals is exact), newest first",
    )
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="at most N records of --where")
    parser.add_argument(
        "--match",
        action="append",
        default=[],
        metavar="OBJECT:FIELD",
        help="--to: find referenced records of OBJECT in the target by FIELD (default: a unique name or field)",
    )
    parser.add_argument(
        "--unmatched",
        action="append",
        default=[],
        metavar="[OBJECT:]refuse|blank|fail",
        help="--to: a reference with no match in the target refuses the copy (default), is left empty, "
        "or fails its record",
    )
    parser.add_argument(
        "--existing",
        default="",
        choices=("", "create", "skip", "update"),
        help="--to: records already in the target are created anyway, skipped or updated",
    )
    parser.add_argument(
        "--map-user",
        action="append",
        default=[],
        dest="map_user",
        metavar="SOURCE_EMAIL=TARGET_EMAIL",
        help="--to: map this source user to that target user (=@api: the target profile's API user)",
    )


def parse_choices(
    opts: dict[str, Any], connector: Connector, profile: ConnectionProfile
) -> tuple[dict[str, Any], CopyOptions]:
    """(top-record overrides, CopyOptions) from the command line."""

    top, options = parse_cli(
        top_object=opts["object"],
        describe=connector.describe,
        set_values=opts["set_values"],
        clear=opts["clear"],
        exclude=opts["exclude"],
        unique=opts["unique"],
        lineage=opts["lineage"],
        lineage_defaults=profile.lineage_fields or {},
        **{k: bool(opts[k]) for k in FLAGS},
    )
    options = replace(
        options,
        mask=masking_rules.parse(opts.get("mask") or [], top_object=opts["object"]),
        mask_suggested=bool(opts.get("mask_suggested")),
    )
    return top, parse_cross_cli(
        options,
        match=opts.get("match") or [],
        unmatched=opts.get("unmatched") or [],
        existing=opts.get("existing") or "",
        map_user=opts.get("map_user") or [],
        where=opts.get("where") or "",
        limit=opts.get("limit"),
    )


def masking_lines(table: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The preview's masking table as lines (the source sample: the user can read the source)."""
    return [
        f"Mask {obj}.{row['field']} ({row['rule']}): {row['count']} value(s), "
        f"e.g. {row['sample_source']!r} -> {row['sample_standin']!r}"
        for obj, rows in table.items()
        for row in rows
    ]


def suggestion_lines(left: dict[str, list[mask_choices.MaskRow]]) -> list[str]:
    """The suggestions not yet taken, as the --mask each would be."""
    return [
        f"Suggested, not confirmed: --mask {obj}:{row.field}={row.rule} ({row.label})"
        for obj, rows in left.items()
        for row in rows
    ]
