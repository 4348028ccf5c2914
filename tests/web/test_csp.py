"""Content-Security-Policy (records/web/csp.py): a strict policy on every page, and no inline script
or style left for it to block — in the template files and in every page they render.

PAGES names every HTML page of records/urls.py (and the login and admin pages) with how to reach it;
NOT_PAGES the URLs that answer no page. A URL in neither fails the test, so a new page gets checked."""

from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import get_resolver, reverse

from records.connectors import connector_for
from records.copy_templates import services as template_services
from records.copying.job_create import copy_job_create
from records.models import CopyJob
from tests.fixtures.engine import copy_request

ROOT = Path(__file__).resolve().parents[2]
STRICT = ("default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'")
NOT_PAGES = {
    "health": "plain text",
    "health_ready": "plain text",
    "health_live": "plain text",
    "health_ready_bare": "plain text",
    "health_live_bare": "plain text",
    "favicon": "a redirect to the svg icon",
    "copy_plan_status": "JSON",
    "record_lookup": "JSON",
    "copy_object_fields": "JSON",
    "bulk_template": "CSV",
    "job_results_csv": "CSV",
    "profile_test": "POST only, redirects",
    "copy_choices": "POST: redirects to the preview with the choices",
    "copy_target": "POST: redirects to the preview with the profile copied into",
    "copy_cross_choices": "POST: redirects to the preview with a cross copy's choices",
    "copy_mask_choices": "POST: redirects to the preview with the masking table's rules",
    "copy_confirm": "POST only, redirects to the job page (or back to the preview)",
    "job_retry_redirect": "redirects to job_resume (Resume's older URL)",
    "job_row_pick": "POST only, redirects to the job page (its review section: in job_detail's table)",
    "job_row_none": "POST only, redirects to the job page",
    "job_fix_row": "POST only, redirects to the fix page or the job page",
    "job_fix_all": "POST only, redirects to the fix page or the job page",
    "job_approve": "POST only, redirects to the job page (its approval box: in job_detail)",
    "job_reject": "POST only, redirects to the job page",
    "job_save_template": "POST only, redirects to the template's page (its form: in job_detail)",
    "copy_save_template": "POST only, redirects to the template's page (its form: in copy_preview)",
    "template_run": "POST only, redirects to the preview",
    "template_share": "POST only, redirects to the template's page",
    "api_token_revoke": "POST only, redirects to My settings",
    "schedule_add": "POST only, redirects to the template's page",
    "schedule_switch": "POST only, redirects to the template's page",
    "schedule_remove": "POST only, redirects to the template's page",
}


class InlineFinder(HTMLParser):
    """Collects what a strict policy would block: inline <script>, <style>, style="", on*="", javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        at = f"line {self.getpos()[0]}: <{tag}"
        if (
            tag == "script"
            and not attrs.get("src")
            and attrs.get("type") not in ("application/json", "application/ld+json")
        ):
            self.found.append(f"{at}> inline script")
        if tag == "style":
            self.found.append(f"{at}> inline stylesheet")
        for name, value in attrs.items():
            if name == "style":
                self.found.append(f'{at} style="{value}">')
            elif name.startswith("on"):
                self.found.append(f"{at} {name}=> inline event handler")
            elif name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"{at} {name}=javascript:>")


def inline_parts(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    return finder.found


def test_the_finder_finds_what_the_policy_blocks():
    html = (
        '<script>x()</script><script src="/s.js"></script><script type="application/json">{}</script>'
        '<style>p{}</style><p style="color:red" onclick="x()"><a href="javascript:x()">'
    )
    assert len(inline_parts(html)) == 5


@pytest.mark.parametrize("path", sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*.html")))
def test_no_template_has_inline_script_or_style(path):
    text = (ROOT / path).read_text()
    assert inline_parts(text) == [], path


@pytest.fixture
def pages(db, client, django_user_model, vault_profile, fresh_sandbox, owner, make_job):
    """{url name: [(method, url, data)]}: every page, reached as the profile's owner (a superuser)."""
    owner.is_staff = owner.is_superuser = True
    owner.save()
    client.force_login(owner)
    conn = connector_for(vault_profile)
    product = next(r.id for r in conn.search("product__v", "Neurolax").records if r.name == "Neurolax")
    record_url = reverse("copy_record", args=[vault_profile.code, "product__v", product])
    form = client.get(record_url).context["form"]
    values = {bf.html_name: bf.value() for bf in form if bf.value() not in (None, "", [])}
    draft = client.post(record_url, {**values, "mode": "deep_copy", "f_name__v": "CSP Product"})
    assert draft.status_code == 302, [l for l in draft.content.decode().splitlines() if "error" in l][:5]
    job = copy_job_create(
        request=copy_request(vault_profile, "product__v", [product], "clone", overrides={"name__v": "CSP Copy"}),
        user=owner,
        enqueue=False,
    )
    done = make_job(results=12, status=CopyJob.Status.PARTIAL)
    # A row that needs review: the job page shows its candidates and pick forms.
    candidates = [{"id": "V1", "name": "Copy", "created": "2026-01-01T00:00:00+00:00", "link": "https://x.test/V1"}]
    done.results.filter(pk=done.results.order_by("pk")[0].pk).update(status="review", candidates=candidates)
    template = template_services.save_from_job(job=job, name="CSP kit", user=owner)
    template_services.edit(template=template, user=owner, description="v2")
    tcode = template.code
    code, pcode = job.code, vault_profile.code
    get = lambda url: ("get", url, None)  # noqa: E731
    return client, {
        "home": [get("/")],
        "profile_list": [get(reverse("profile_list"))],
        "profile_add": [get(reverse("profile_add")), ("post", reverse("profile_add"), {"name": ""})],
        "profile_edit": [get(reverse("profile_edit", args=[pcode]))],
        "profile_delete": [get(reverse("profile_delete", args=[pcode]))],
        "profile_copy_keys": [
            get(reverse("profile_copy_keys", args=[pcode])),
            ("post", reverse("profile_copy_keys", args=[pcode]), {"object": "country__v"}),  # what it creates
        ],
        # A refused line shows the edit page again with the error beside the box.
        "profile_lineage": [("post", reverse("profile_lineage", args=[pcode]), {"lineage_lines": "no colon"})],
        "copy_start": [get(reverse("copy_start"))],
        "copy_objects": [get(reverse("copy_objects", args=[pcode]))],
        "copy_search": [get(reverse("copy_search", args=[pcode, "product__v"]) + "?q=Neuro")],
        # A refused filter shows the search page again with the refusal at the form.
        "copy_query": [
            ("post", reverse("copy_query", args=[pcode, "product__v"]), {"where": "nope__c = 1", "mode": "clone"})
        ],
        "copy_record": [get(record_url), ("post", record_url, {"mode": "clone", "f_price__c": "cheap"})],
        "copy_preview": [get(draft["Location"])],
        "bulk_upload": [get(reverse("bulk_upload"))],
        "job_list": [get(reverse("job_list"))],
        "my_settings": [get(reverse("my_settings"))],
        # The new token shown once, and a refused name beside its form.
        "api_token_create": [
            ("post", reverse("api_token_create"), {"name": "CSP build", "scope": "read"}),
            ("post", reverse("api_token_create"), {"name": "", "scope": "read"}),
        ],
        "job_detail": [get(reverse("job_detail", args=[code])), get(reverse("job_detail", args=[done.code]))],
        "job_rows": [get(reverse("job_rows", args=[done.code]))],
        "job_live": [get(reverse("job_live", args=[code])), get(reverse("job_live", args=[done.code]))],
        "job_cancel": [get(reverse("job_cancel", args=[code]))],
        "job_resume": [get(reverse("job_resume", args=[done.code]))],
        "job_undo": [get(reverse("job_undo", args=[done.code]))],
        "job_fix": [get(reverse("job_fix", args=[done.code]))],
        "template_list": [get(reverse("template_list"))],
        "template_detail": [get(reverse("template_detail", args=[tcode]) + "?v1=1&v2=2")],
        "template_edit": [get(reverse("template_edit", args=[tcode]))],
        "login": [get(reverse("login"))],
        "admin": [
            get(reverse("admin:index")),
            get(reverse("admin:records_connectionprofile_changelist")),
            get(reverse("admin:records_connectionprofile_add")),
            get(reverse("admin:records_connectionprofile_change", args=[vault_profile.pk])),
            get(reverse("admin:records_connectionprofile_secret", args=[vault_profile.pk])),
            get(reverse("admin:records_copyjob_changelist")),
            get(reverse("admin:records_copyjob_change", args=[job.pk])),
            get(reverse("admin:records_recordresult_changelist")),
            get(reverse("admin:records_auditevent_changelist")),
            get(reverse("admin:records_copytemplate_change", args=[template.pk])),
        ],
    }


def _app_url_names():
    from records import urls

    return {p.name for p in urls.urlpatterns}


def test_every_page_is_listed(pages):
    _, table = pages
    missing = _app_url_names() - set(table) - set(NOT_PAGES)
    assert missing == set(), f"add these URLs to the CSP page table: {sorted(missing)}"
    assert {"login", "admin"} <= set(table) and get_resolver().reverse_dict


def test_every_page_sends_the_strict_policy_and_has_nothing_inline(pages):
    client, table = pages
    problems = []
    for name, requests in table.items():
        for method, url, data in requests:
            response = getattr(client, method)(url, data or {})
            if response.status_code != 200:
                problems.append(f"{name} {method} {url}: status {response.status_code}")
                continue
            policy = response.get("Content-Security-Policy", "")
            if not all(part in policy for part in STRICT) or "unsafe-inline" in policy:
                problems.append(f"{name} {url}: policy {policy!r}")
            found = inline_parts(response.content.decode())
            if found:
                problems.append(f"{name} {method} {url}: {found}")
    assert problems == [], "\n".join(problems)


def test_only_the_rq_dashboard_may_run_inline_script(pages, redis_url):
    client, _ = pages
    response = client.get("/admin/rq/")
    policy = response.get("Content-Security-Policy", "")
    assert "script-src 'self' 'unsafe-inline'" in policy and "default-src 'self'" in policy
    assert "unsafe-inline" not in client.get("/").get("Content-Security-Policy", "x unsafe-inline")


def test_the_system_checks_accept_the_policy_settings():
    # django-csp refuses old-style CSP_* settings with an error (csp.E001) that stops every worker.
    import io

    from django.core.management import call_command

    call_command("check", stdout=io.StringIO())
