"""Every URL of the app, walked from the URLconf, requested (GET) by each role; the expected status
of each is in RULES below. A URL whose name matches no rule fails the test, so a new URL must say
who may open it.

Roles: anonymous; a business user who owns a profile and a job; a user the profile is shared
with; staff with no permissions; an approver (group approve_copy, otherwise a business user); a
superuser. Objects in the URLs are real (the owner's profile and job, the admin rows, a queued RQ
job), so 200 means the page really opened and 404 that it is hidden from that role.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

import django_rq
import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rq import Queue

from records.jobs import run_copy_job
from records.models import (
    AuditEvent,
    CopyJob,
    CopyPlan,
    CopySchedule,
    CopyTemplate,
    CopyTemplateVersion,
    ScheduleRun,
)
from records.notify.models import MailDelivery, NotificationSettings, WebhookDelivery, WebhookMessage

pytestmark = pytest.mark.django_db
ROLES = ("anonymous", "owner", "shared", "staff", "approver", "superuser")
L = 302  # to a login page (anonymous; non-staff at the admin)
R = 302  # a redirect a logged-in user gets on purpose (e.g. the admin's missing object, logout)

# name glob -> status per role, in ROLES order. First match wins; order specific before general.
RULES: list[tuple[str, tuple[int, ...]]] = [
    # Public
    ("login", (200, 200, 200, 200, 200, 200)),
    ("logout", (405, 405, 405, 405, 405, 405)),  # POST only (CSRF-protected)
    ("health", (200, 200, 200, 200, 200, 200)),
    ("health_ready", (200, 200, 200, 200, 200, 200)),
    ("health_live", (200, 200, 200, 200, 200, 200)),
    ("health_*_bare", (200, 200, 200, 200, 200, 200)),  # the same without the final slash
    ("favicon", (302, 302, 302, 302, 302, 302)),  # to the svg icon
    ("admin:login", (200, 200, 200, R, 200, R)),  # staff are sent on to the admin index
    ("admin_login_gate", (200, 200, 200, R, 200, R)),  # the same page (local accounts on)
    ("admin_logout", (405, 405, 405, 405, 405, 405)),  # our logout, POST only
    ("oidc_*", (404, 404, 404, 404, 404, 404)),  # SSO is off here; tests/accounts/test_sso.py has it on
    # The business pages: the owner and the shared user use the profile; the job is the owner's
    # alone; the superuser sees every profile (audit) but jobs only their own; staff without
    # permissions are business users (the admin's is_staff flag grants nothing here).
    ("home", (L, 200, 200, 200, 200, 200)),
    ("profile_list", (L, 200, 200, 200, 200, 200)),
    ("profile_add", (L, 200, 200, 200, 200, 200)),
    ("profile_edit", (L, 200, 404, 404, 404, 200)),  # only the owner (and the superuser) edit it
    ("profile_delete", (L, 200, 404, 404, 404, 200)),
    ("profile_test", (L, 405, 405, 405, 405, 405)),  # POST only
    ("profile_lineage", (L, 405, 405, 405, 405, 405)),  # POST only (the lineage defaults, from the edit page)
    ("profile_copy_keys", (L, 200, 200, 404, 404, 200)),  # its users see it; staff who may change profiles add
    ("copy_start", (L, 200, 200, 200, 200, 200)),
    ("copy_objects", (L, 200, 200, 404, 404, 200)),
    ("copy_search", (L, 200, 200, 404, 404, 200)),
    ("copy_record", (L, 200, 200, 404, 404, 200)),
    ("copy_query", (L, 405, 405, 405, 405, 405)),  # POST only (the search page's copy by query)
    ("copy_preview", (L, 404, 404, 404, 404, 404)),  # a draft lives in its own session only
    ("copy_confirm", (L, 405, 405, 405, 405, 405)),  # POST only (the preview's Confirm)
    ("copy_choices", (L, 405, 405, 405, 405, 405)),  # POST only (the preview's choices form)
    ("copy_target", (L, 405, 405, 405, 405, 405)),  # POST only (the preview's "Copy into")
    ("copy_cross_choices", (L, 405, 405, 405, 405, 405)),  # POST only (a cross plan's choices)
    ("copy_mask_choices", (L, 405, 405, 405, 405, 405)),  # POST only (the masking table)
    ("copy_plan_status", (L, 404, 404, 404, 404, 404)),  # JSON of a draft: its own session only
    ("copy_object_fields", (L, 200, 200, 404, 404, 200)),  # one describe through the profile: its users
    ("bulk_upload", (L, 200, 200, 200, 200, 200)),
    ("bulk_template", (L, 404, 404, 404, 404, 404)),  # without ?profile= there is no such profile
    ("record_lookup", (L, 200, 200, 404, 404, 200)),  # searches through the profile: its users
    ("my_settings", (L, 200, 200, 200, 200, 200)),
    ("job_list", (L, 200, 200, 200, 200, 200)),
    ("job_detail", (L, 200, 404, 404, 404, 404)),
    ("job_live", (L, 200, 404, 404, 404, 404)),
    ("job_rows", (L, 200, 404, 404, 404, 404)),
    ("job_results_csv", (L, 200, 404, 404, 404, 404)),
    ("job_cancel", (L, 200, 404, 404, 404, 404)),  # GET: the confirmation page
    ("job_resume", (L, 200, 404, 404, 404, 404)),  # GET: the confirmation page
    ("job_retry_redirect", (L, 308, 404, 404, 404, 404)),  # Resume's older URL: on to job_resume
    ("job_undo", (L, 200, 404, 404, 404, 404)),  # GET: the confirmation page
    ("job_row_pick", (L, 405, 405, 405, 405, 405)),  # POST only (a row that needs review: its copy)
    ("job_row_none", (L, 405, 405, 405, 405, 405)),  # POST only (none of the candidates)
    ("job_fix", (L, 200, 404, 404, 404, 404)),  # GET: the fix page (as resume: the owner's job)
    ("job_fix_row", (L, 405, 405, 405, 405, 405)),  # POST only (one failed row's fix)
    ("job_fix_all", (L, 405, 405, 405, 405, 405)),  # POST only (every failed row's fix)
    ("job_approve", (L, 405, 405, 405, 405, 405)),  # POST only (a copy into a protected profile)
    ("job_reject", (L, 405, 405, 405, 405, 405)),  # POST only
    # Saved copy templates: the owner's template, not shared with anyone (the superuser sees all).
    ("template_list", (L, 200, 200, 200, 200, 200)),
    ("template_detail", (L, 200, 404, 404, 404, 200)),
    ("template_edit", (L, 200, 404, 404, 404, 200)),  # only the owner (and the superuser) edit it
    ("template_run", (L, 405, 405, 405, 405, 405)),  # POST only (the template page's Run)
    ("template_share", (L, 405, 405, 405, 405, 405)),  # POST only
    ("schedule_add", (L, 405, 405, 405, 405, 405)),  # POST only (the template page's schedule form)
    ("schedule_switch", (L, 405, 405, 405, 405, 405)),  # POST only
    ("schedule_remove", (L, 405, 405, 405, 405, 405)),  # POST only
    ("job_save_template", (L, 405, 405, 405, 405, 405)),  # POST only (the job page's "Save as template")
    ("copy_save_template", (L, 405, 405, 405, 405, 405)),  # POST only (the preview's "Save as template")
    # The JSON API (a session here; tests/api/ has the tokens): 401 without credentials, the
    # owner's job alone, the POST-only ones 405 once signed in; tokens are made on My settings.
    ("api_template_list", (401, 200, 200, 200, 200, 200)),
    ("api_template_run", (401, 405, 405, 405, 405, 405)),  # POST only
    ("api_job_detail", (401, 200, 404, 404, 404, 404)),
    ("api_job_results", (401, 200, 404, 404, 404, 404)),
    ("api_job_*", (401, 405, 405, 405, 405, 405)),  # cancel, resume, undo: POST only
    ("api_schema", (401, 200, 200, 200, 200, 200)),
    ("api_token_*", (L, 405, 405, 405, 405, 405)),  # POST only (My settings' tokens section)
    # The queue dashboard, both mounts: superusers (and use_queue_dashboard holders) only.
    ("*django_rq*stop_job", (L, L, L, 403, L, 405)),  # POST only
    ("*django_rq*actions", (L, L, L, 403, L, R)),  # POST only; a GET goes back to the list
    ("*django_rq*confirm_action", (L, L, L, 403, L, R)),
    ("*django_rq*cron_*", (L, L, L, 403, L, 404)),  # no cron scheduler "x" runs
    ("*django_rq*result_detail", (L, L, L, 403, L, 404)),  # the job has no result yet
    ("*django_rq*worker_details", (L, L, L, 403, L, 404)),  # no worker "x"
    ("django_rq:*", (L, L, L, 403, L, 200)),
    ("admin:django_rq_*", (L, L, L, 403, L, 200)),
    # The admin: staff without permissions get the index and their own password page, 403 elsewhere.
    ("admin:index", (L, L, L, 200, L, 200)),
    ("admin:app_list", (L, L, L, 404, L, 200)),  # records' app list: staff hold no records perms
    ("admin:password_change*", (L, L, L, 200, L, 200)),
    ("admin:logout", (405, 405, 405, 405, 405, 405)),  # the path is served by admin_logout
    ("admin:jsi18n", (L, L, L, 200, L, 200)),
    ("admin:autocomplete", (L, L, L, 403, L, 403)),  # without term/app_label: refused
    ("admin:view_on_site", (L, L, L, 404, L, 404)),
    ("admin:records_connectionprofile_secret", (L, L, L, 403, L, 200)),
    ("admin:*_add", (L, L, L, 403, L, 200)),
    ("admin:*_changelist", (L, L, L, 403, L, 200)),
    ("admin:*_change", (L, L, L, 403, L, 200)),
    ("admin:*_delete", (L, L, L, 403, L, 200)),
    ("admin:*_history", (L, L, L, 403, L, 200)),
    ("admin:auth_user_password_change", (L, L, L, 403, L, 200)),
    ("(unnamed) admin/*/<path:object_id>/", (L, L, L, R, L, R)),  # on to the change page
    ("(unnamed) admin/(?P<url>.*)$", (L, L, L, 404, L, 404)),  # the admin's catch-all
]
READ_ONLY = ("copyjob", "recordresult", "auditevent", "copyplan")
READ_ONLY += ("maildelivery", "webhookmessage", "webhookdelivery", "notificationsettings")
READ_ONLY += ("copyschedule", "schedulerun")  # changed on the template's page (armed and audited there)
# Exceptions to the globs above: (name, role) -> status.
EXCEPTIONS = {
    # Read-only models: the superuser may open the add and delete pages of none of them.
    **{(f"admin:records_{m}_add", "superuser"): 403 for m in READ_ONLY},
    ("admin:records_copytemplate_add", "superuser"): 403,  # made from jobs and previews, never added there
    **{(f"admin:axes_{m}_add", "superuser"): 403 for m in ("accessattempt", "accesslog", "accessfailurelog")},
    **{(f"admin:records_{m}_delete", "superuser"): 403 for m in READ_ONLY},
}


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            yield (f"{namespace}{p.name}" if p.name else f"(unnamed) {route}"), route


ALL = sorted(set(_walk(get_resolver().url_patterns)))


def rule_for(name: str, role: str) -> int | None:
    if (name, role) in EXCEPTIONS:
        return EXCEPTIONS[(name, role)]
    for glob, statuses in RULES:
        if fnmatchcase(name, glob):
            return statuses[ROLES.index(role)]
    return None


def test_every_url_has_a_rule():
    assert len(ALL) > 100
    missing = sorted({name for name, _ in ALL if rule_for(name, "owner") is None})
    assert not missing, f"URLs with no access rule: {missing}"


@pytest.fixture
def world(owner, other_user, bare_staff, approver, staff, make_job, fake_connector, redis_url):
    """A profile of the owner shared with `other_user`, the owner's job, one row of every admin model."""
    job = make_job(status=CopyJob.Status.SUCCEEDED, results=3)
    profile = job.profile
    profile.shared_with_users.add(other_user)
    AuditEvent.objects.create(actor=owner, action="job.create", profile=profile, job=job)
    CopyPlan.objects.create(profile=profile, requested_by=owner, object_name="Accounts", mode="clone", key="k")
    message = WebhookMessage.objects.create(job=job, url="https://hooks.example.com/a", event="job.ended")
    WebhookDelivery.objects.create(message=message, url=message.url, event=message.event, attempt=1)
    MailDelivery.objects.create(job=job, event="job.ended", occurrence="t", recipient="a@example.com", subject="s")
    NotificationSettings.objects.create(user=owner)
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    AccessAttempt.objects.create(
        username="x",
        ip_address="203.0.113.1",
        failures_since_start=1,
        user_agent="t",
        get_data="",
        post_data="",
        http_accept="",
        path_info="/",
    )
    AccessLog.objects.create(username="x", ip_address="203.0.113.1", user_agent="t", http_accept="", path_info="/")
    AccessFailureLog.objects.create(
        username="x", ip_address="203.0.113.1", user_agent="t", http_accept="", path_info="/", locked_out=False
    )
    Group.objects.get_or_create(name="team")
    template = CopyTemplate.objects.create(name="Kit", owner=owner)
    CopyTemplateVersion.objects.create(
        template=template,
        number=1,
        created_by=owner,
        definition={"profile": str(profile.code), "object_name": "product__v", "mode": "clone", "source_ids": ["P1"]},
    )
    schedule = CopySchedule.objects.create(template=template, every_seconds=60, source_ids=["P1"], created_by=owner)
    ScheduleRun.objects.create(schedule=schedule, due_at=timezone.now(), job=job)
    queue = Queue("default", connection=django_rq.get_connection("default"))
    rq_job = queue.enqueue_call(func=run_copy_job, args=(job.pk,), job_id="copyjob-matrix")
    users = {
        "anonymous": None,
        "owner": owner,
        "shared": other_user,
        "staff": bare_staff,
        "approver": approver,
        "superuser": staff,
    }
    return {"profile": profile, "job": job, "rq_job": rq_job, "users": users, "template": template}


def _object_pk(name: str, world) -> str:
    """The pk of a real row for an admin change/delete/history URL of that model."""
    from django.contrib import admin

    for model in admin.site._registry:
        if name.startswith(f"admin:{model._meta.app_label}_{model._meta.model_name}_") and model._meta.managed:
            row = model.objects.order_by("pk").first()
            return str(row.pk) if row else "1"
    return "1"


def _url(name: str, route: str, world) -> str:
    profile, job = world["profile"], world["job"]
    code = job.code if name.startswith(("job_", "api_job_")) else profile.code
    code = world["template"].code if name.startswith(("template_", "api_template_")) else code
    values = {
        "code": code,
        "profile_code": profile.code,
        "object_name": "product__v",
        "record_id": "P100",
        "draft_id": "0" * 32,
        "queue_index": 0,
        "job_id": world["rq_job"].id,
        "result_id": "x",
        "key": "x",
        "scheduler_index": 0,
        "connection_index": 0,
        "scheduler_name": "x",
        "cron_job_name": "x",
        "object_id": _object_pk(name, world),
        "id": world["users"]["owner"].pk,
        "content_type_id": ContentType.objects.get_for_model(CopyJob).pk,
        "app_label": "records",
        "token": "x",
        "url": "nowhere/",
        "token_id": 1,
        "row": job.results.values_list("pk", flat=True).first() or 1,
        "pk": 1,  # a schedule's number (its pages are POST only)
    }
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)\??", lambda m: str(values[m.group(1)]), route)  # regex routes first
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
    return "/" + route.replace("^", "").replace("$", "").replace("/?", "/").replace("\\", "")


def test_each_role_gets_the_status_of_its_rule(client, world):
    client.raise_request_exception = False  # a 500 is a status like any other here
    wrong = []
    for role in ROLES:
        client.logout()
        if world["users"][role]:
            client.force_login(world["users"][role])
        for name, route in ALL:
            url = _url(name, route, world)
            got = client.get(url).status_code
            if got != rule_for(name, role):
                wrong.append(f"{role:10} {name} {url}: {got}, rule {rule_for(name, role)}")
    assert not wrong, "\n".join(wrong)
