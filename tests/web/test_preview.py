"""The preview page while its plan is read on a real worker, with the Django client over the
sandbox: the page answers at once, polls plan.json, and Confirm uses the stored plan."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from records.connectors import connector_for
from records.models import CopyJob, CopyPlan
from tests.copying.test_stored_plans import burst
from tests.fixtures.web import put_draft

pytestmark = [pytest.mark.redis, pytest.mark.plans_on_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def draft(fresh_sandbox, zoho_profile, owner_client, redis_url):
    conn = connector_for(zoho_profile)
    src = next(r.id for r in conn.search("Accounts", "Globex").records if r.name == "Globex")
    put_draft(owner_client, zoho_profile, "Accounts", [src], overrides={"Account_Name": "Globex P"}, label="Globex")
    fresh_sandbox.clear_log()
    return owner_client, fresh_sandbox


def test_preview_shows_progress_then_the_plan_and_confirm_reads_nothing(draft):
    client, sb = draft
    url, confirm = reverse("copy_preview", args=["d1"]), reverse("copy_confirm", args=["d1"])
    page = client.get(url).content.decode()
    assert "Reading the records to copy" in page and "data-plan-poll" in page and "What will be copied" not in page
    # The page waited on no remote call at all (one search or one describe would be allowed).
    assert sb.log("zoho") == []
    status = client.get(reverse("copy_plan_status", args=["d1"])).json()
    assert status == {"status": "reading", "read": 0, "notice": ""}
    early = client.post(confirm)  # Confirm before the plan is read: back to the preview, no job
    assert early.status_code == 302 and early["Location"] == url and not CopyJob.objects.exists()
    burst()
    assert client.get(reverse("copy_plan_status", args=["d1"])).json()["status"] == "ready"
    sb.clear_log()
    page = client.get(url).content.decode()
    plan = CopyPlan.objects.get()
    assert "What will be copied" in page and f'name="plan" value="{plan.code}"' in page
    # The choices' field pickers come from the fields the worker stored: no describe in the request.
    assert "Account Name" in page and sb.log("zoho") == []
    sb.clear_log()
    first = client.post(confirm, {"plan": str(plan.code)})
    second = client.post(confirm, {"plan": str(plan.code)})  # a double click
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    assert CopyJob.objects.count() == 1 and sb.log("zoho") == []
    assert CopyJob.objects.get().planned_count == plan.plan["total"]


def test_a_failed_plan_is_shown_with_a_read_again_link(draft):
    client, sb = draft
    sb.faults("zoho").set(p500=1.0)
    try:
        client.get(reverse("copy_preview", args=["d1"]))
        burst()
    finally:
        sb.faults("zoho").clear()
    page = client.get(reverse("copy_preview", args=["d1"])).content.decode()
    assert "The preview failed" in page and "?again=1" in page
    again = client.get(reverse("copy_preview", args=["d1"]) + "?again=1")
    assert again.status_code == 302 and CopyPlan.objects.filter(status=CopyPlan.Status.READING).count() == 1
    burst()
    assert "What will be copied" in client.get(reverse("copy_preview", args=["d1"])).content.decode()


def test_plan_status_of_another_session_is_404(draft, other_user):
    from django.test import Client

    other = Client()
    other.force_login(other_user)
    assert other.get(reverse("copy_plan_status", args=["d1"])).status_code == 404
    client, _ = draft
    assert client.get(reverse("copy_plan_status", args=["d1"])).status_code == 200


def test_choices_are_typed_by_the_fields_the_worker_read_and_checked_by_the_next_plan(draft):
    """Choosing 'Contacts: Last_Name = ...' on the preview describes nothing in the web request (the
    worker stored the fields with the plan); the next plan, read on the worker, refuses a value too
    long for the field, and a good one is kept on the draft."""
    client, sb = draft
    url = reverse("copy_preview", args=["d1"])
    client.get(url)
    burst()
    plan = CopyPlan.objects.get()
    assert {"Accounts", "Contacts"} <= set(plan.plan["fields"])
    sb.clear_log()
    post = {"plan": str(plan.code), "set": "Contacts:Last_Name=" + "x" * 500}
    answer = client.post(reverse("copy_choices", args=["d1"]), post)
    assert answer.status_code == 302 and sb.log("zoho") == []
    burst()
    assert "Reading the records to copy" in client.get(url).content.decode()  # the new choice: a new plan
    burst()
    page = client.get(url).content.decode()
    assert (
        "The preview failed" in page and "Last" in page and "x" * 500 not in page.split("The preview failed")[1][:300]
    )
    # Walk-through defect: the failure came from a choice, yet it linked only to the fields step.
    assert '<a href="#copy-choices">Change the choices below</a>' in page.split("The preview failed")[1][:1500]
    answer = client.post(reverse("copy_choices", args=["d1"]), {**post, "set": "Contacts:Last_Name=Kept"})
    assert answer.status_code == 302
    assert client.session["copy_drafts"]["d1"]["options"]["fields"] == {"Contacts": {"Last_Name": "Kept"}}


def test_back_after_confirm_leads_to_the_job_not_a_404(draft, other_user, client):
    """Walk-through defect: the browser's Back after Confirm (or the preview's tab still open, its
    poll running) answered 404 "already started or expired", though the job had been queued."""
    owner_client, _ = draft
    url = reverse("copy_preview", args=["d1"])
    owner_client.get(url)
    burst()
    plan = CopyPlan.objects.get()
    confirmed = owner_client.post(reverse("copy_confirm", args=["d1"]), {"plan": str(plan.code)})
    job = CopyJob.objects.get()
    back = owner_client.get(url)
    assert back.status_code == 302 and back["Location"] == confirmed["Location"] == reverse(
        "job_detail", args=[job.code]
    )
    status = owner_client.get(reverse("copy_plan_status", args=["d1"])).json()
    assert status == {"status": "confirmed", "job_url": reverse("job_detail", args=[job.code])}
    # Another user's session with the same draft id learns nothing of this job.
    client.force_login(other_user)
    assert client.get(url).status_code == 404
    assert client.get(reverse("copy_plan_status", args=["d1"])).status_code == 404


def test_a_preview_read_before_the_profile_moved_to_another_org_is_not_confirmed(draft):
    """Preview a deep copy, point the profile at another org on the edit page, Confirm: nothing is
    written anywhere; the preview says why and reads the plan again for the profile as it is now."""
    client, sb = draft
    url = reverse("copy_preview", args=["d1"])
    client.get(url)
    burst()
    plan = CopyPlan.objects.get()
    profile = plan.profile
    edit = {
        "name": profile.name,
        "system": "zoho",
        "base_url": sb.zoho_url.replace("127.0.0.1", "localhost"),  # another org's address, to the app
        "accounts_url": profile.accounts_url,
        "api_version": "",
        "username": profile.username,
        "secret": "another-org-secret",
        "refresh_token": "another-org-token",
        "concurrency": "5",
    }
    saved = client.post(reverse("profile_edit", args=[profile.code]), edit)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    sb.clear_log()
    answer = client.post(reverse("copy_confirm", args=["d1"]), {"plan": str(plan.code)}, follow=True)
    assert answer.redirect_chain[-1][0] == url
    assert "The profile changed since this preview: preview again." in answer.content.decode()
    assert not CopyJob.objects.exists() and sb.log("zoho") == []
    assert CopyPlan.objects.filter(status=CopyPlan.Status.READING).exclude(pk=plan.pk).count() == 1  # read anew


def test_a_second_tab_confirming_the_same_preview_is_sent_to_the_job_the_first_made(draft):
    client, _ = draft
    session = client.session
    session["copy_drafts"]["d2"] = dict(session["copy_drafts"]["d1"])  # a second tab, the same inputs
    session.save()
    client.get(reverse("copy_preview", args=["d1"]))
    client.get(reverse("copy_preview", args=["d2"]))
    burst()
    plan = CopyPlan.objects.get()  # one plan row for both tabs
    client.post(reverse("copy_confirm", args=["d1"]), {"plan": str(plan.code)})
    second = client.post(reverse("copy_confirm", args=["d2"]), {"plan": str(plan.code)}, follow=True)
    job = CopyJob.objects.get()
    assert second.redirect_chain[-1][0] == reverse("job_detail", args=[job.code])
    assert f"This preview was already confirmed (in another tab): it made job {job.pk}" in second.content.decode()


@pytest.mark.plans_on_worker
def test_the_preview_names_changed_fields_by_label_while_it_is_read(
    owner_client, vault_profile, fresh_sandbox, redis_url
):
    """While the plan was read the summary said "description__c description__c = …" (labels came
    only with the plan), and a bulk file's "Changes per row" showed API names only."""
    url = reverse("copy_record", args=[vault_profile.code, "product__v", "00P000000000001"])
    form = {"mode": "clone", "f_name__v": "Cardiostat L", "f_description__c": "new words", "f_status__v": "active__v"}
    page = owner_client.get(url).content.decode()
    for name in ("launch_date__c", "price__c", "country__c", "product_manager__c"):  # the values the form starts with
        value = page.split(f'name="f_{name}"')[1].split('value="')[1].split('"')[0]
        form[f"f_{name}"] = value
    sent = owner_client.post(url, form)
    assert sent.status_code == 302, [e.split("</ul>")[0] for e in sent.content.decode().split("errorlist")[1:]]
    preview = owner_client.get(sent["Location"]).content.decode()
    assert "Reading the records to copy" in preview  # no worker: the plan is still being read
    assert 'Description <span class="mono muted small-text">description__c</span> = “new words”' in preview

    code = str(vault_profile.code)
    owner_client.get(reverse("bulk_upload"), {"profile": code, "object": "product__v"})
    upload = SimpleUploadedFile("p.csv", b"id,name__v\n00P000000000001,Cardiostat B\n", content_type="text/csv")
    sent = owner_client.post(reverse("bulk_upload"), {"profile": code, "object_name": "product__v", "file": upload})
    preview = owner_client.get(sent["Location"]).content.decode()
    assert 'Product Name <span class="mono muted small-text">name__v</span> = “Cardiostat B”' in preview


def test_the_preview_page_states_the_copys_calls_against_the_budget_left(draft):
    client, sb = draft
    sb.zoho.settings = sb.zoho.settings.updated(daily_credits=1000)
    sb.zoho.credits_used = 700  # past half: the answers say what is left
    client.get(reverse("copy_preview", args=["d1"]))
    burst()
    page = client.get(reverse("copy_preview", args=["d1"])).content.decode()
    line = page.split('<p id="plan-budget" class="muted">')[1].split("</p>")[0]
    calls = CopyPlan.objects.get().plan["budget"]["calls"]
    assert re.fullmatch(rf"About {calls} write calls?; \d+ Zoho API credits left today, as of \d\d:\d\d UTC\.", line)


def _poll_url(page):
    return re.search(r'data-plan-poll="([^"]+)"', page).group(1)


def test_a_reading_plan_polled_by_the_url_the_page_gives_costs_one_query_besides_session_and_user(draft):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, _ = draft
    poll = _poll_url(client.get(reverse("copy_preview", args=["d1"])).content.decode())
    plan = CopyPlan.objects.get()
    assert poll == reverse("copy_plan_status", args=["d1"]) + f"?plan={plan.code}"
    CopyPlan.objects.filter(pk=plan.pk).update(read_count=42)
    with CaptureQueriesContext(connection) as queries:
        quick = client.get(poll).json()
    assert len(queries) == 3, [q["sql"] for q in queries.captured_queries]  # before the next request clears them
    assert (
        quick
        == client.get(reverse("copy_plan_status", args=["d1"])).json()
        == {
            "status": "reading",
            "read": 42,
            "notice": "",
        }
    )
    burst()
    assert client.get(poll).json()["status"] == "ready", "a plan no longer reading gets the full answer"


def test_a_plan_polled_by_another_user_with_its_code_is_404(draft, other_user):
    from django.test import Client

    client, _ = draft
    poll = _poll_url(client.get(reverse("copy_preview", args=["d1"])).content.decode())
    other = Client()
    other.force_login(other_user)
    assert other.get(poll).status_code == 404


def test_a_stalled_plan_polled_by_its_code_is_queued_again(draft, settings):
    from datetime import timedelta

    from django.utils import timezone

    client, _ = draft
    poll = _poll_url(client.get(reverse("copy_preview", args=["d1"])).content.decode())
    silent = timezone.now() - timedelta(seconds=settings.PLAN_STALE_SECONDS + 5)
    CopyPlan.objects.update(heartbeat=silent)
    assert client.get(poll).json()["status"] == "reading"
    assert CopyPlan.objects.get().heartbeat > silent, "revived: its heartbeat taken anew and queued again"
    burst()
    assert client.get(poll).json()["status"] == "ready"
