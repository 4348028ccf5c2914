"""The templates' pages with Django's client against the sandbox (plans read inline): save from a
job's page and from the preview, run from the template's page through the preview's Confirm,
edit into a new version and compare, share, and the refusals shown on the page."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from records.copy_templates import services
from records.copying.options import CopyOptions
from records.models import AuditEvent, CopyJob, CopyTemplate
from tests.fixtures.engine import copy_now, copy_request, run_job
from tests.fixtures.sandbox import find_record

pytestmark = pytest.mark.django_db


def said(response):
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


@pytest.fixture
def first_job(globex, owner):
    sb, profile, conn, src = globex
    job = copy_now(
        profile,
        owner,
        "Accounts",
        [src],
        "deep_copy",
        overrides={"Account_Name": "{Account_Name} (copy)"},
        options=CopyOptions(exclude=("Deals",)),
    )
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    return job


def test_saved_from_the_job_page_and_run_on_another_record_by_its_name(owner_client, globex, first_job, redis_url):
    sb, profile, conn, src = globex
    assert "Save as template" in owner_client.get(reverse("job_detail", args=[first_job.code])).content.decode()
    response = owner_client.post(
        reverse("job_save_template", args=[first_job.code]), {"name": "Kit", "description": "d"}
    )
    template = CopyTemplate.objects.get()
    assert response["Location"] == reverse("template_detail", args=[template.code])
    page = owner_client.get(response["Location"]).content.decode()
    assert "Deep copy of Accounts from Sandbox Zoho" in page and 'id="run-template"' in page

    response = owner_client.post(reverse("template_run", args=[template.code]), {"records": "Acme Corp"})
    preview = owner_client.get(response["Location"]).content.decode()
    assert "Back: the template" in preview and "Confirm and queue the copy" in preview
    draft_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    confirmed = owner_client.post(reverse("copy_confirm", args=[draft_id]))
    job = CopyJob.objects.exclude(pk=first_job.pk).get()
    assert confirmed["Location"] == reverse("job_detail", args=[job.code])
    assert job.template_version == template.versions.get(number=1)
    assert owner_client.post(reverse("copy_confirm", args=[draft_id]))["Location"] == confirmed["Location"]
    assert AuditEvent.objects.filter(action="template.run", job=job).count() == 1

    job = run_job(job)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    acme = find_record(conn, "Accounts", "Acme Corp")
    assert job.source_ids == [acme]
    assert conn.get("Accounts", job.results.get(depth=0).new_id).fields["Account_Name"] == "Acme Corp (copy)"
    assert not job.results.filter(object_name="Deals").exists()


def test_saved_from_a_query_preview_and_run_on_its_saved_filter(owner_client, zoho, owner):
    _, profile, conn = zoho
    data = {"mode": "clone", "limit": "2", "target": "", "where": "(Industry:equals:Retail)"}
    response = owner_client.post(reverse("copy_query", args=[profile.code, "Accounts"]), data)
    draft_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    assert 'id="save-template"' in owner_client.get(response["Location"]).content.decode()
    saved = owner_client.post(reverse("copy_save_template", args=[draft_id]), {"name": "Retail", "description": ""})
    template = CopyTemplate.objects.get()
    assert saved["Location"] == reverse("template_detail", args=[template.code])
    options = services.latest_version(template).definition["options"]
    assert (options["source_filter"], options["source_limit"]) == ("(Industry:equals:Retail)", 2)

    response = owner_client.post(reverse("template_run", args=[template.code]), {"records": ""})
    page = owner_client.get(response["Location"]).content.decode()
    assert 'id="query-match"' in page and "the newest 2 are copied" in page
    assert 'id="save-template"' not in page  # a template's run is saved already


def test_a_run_naming_an_unknown_record_is_refused_on_the_template_page(owner_client, globex, first_job):
    template = services.save_from_job(job=first_job, name="Kit", user=first_job.requested_by)
    response = owner_client.post(reverse("template_run", args=[template.code]), {"records": "No Such Account"})
    assert response["Location"] == reverse("template_detail", args=[template.code])
    assert "No Accounts record has the id or the name 'No Such Account'" in said(response)
    assert not owner_client.session.get("copy_drafts")


def test_editing_makes_a_version_and_the_page_shows_the_diff(owner_client, globex, first_job):
    template = services.save_from_job(job=first_job, name="Kit", user=first_job.requested_by)
    edit = reverse("template_edit", args=[template.code])
    assert 'value="Deals"' in owner_client.get(edit).content.decode()
    data = {"name": "Kit 2", "description": "", "mode": "clone", "exclude": "", "source_filter": "", "source_limit": ""}
    response = owner_client.post(edit, data)
    assert response["Location"].endswith("?v1=1&v2=2")
    page = owner_client.get(response["Location"]).content.decode()
    assert "Kit 2" in page and "Mode: &#x27;deep_copy&#x27; → &#x27;clone&#x27;" in page
    assert "Left out: Deals → (none)" in page


def test_another_user_sees_a_template_once_shared_and_needs_its_profile_to_run_it(
    owner_client, globex, first_job, other_user
):
    template = services.save_from_job(job=first_job, name="Kit", user=first_job.requested_by)
    client = Client()
    client.force_login(other_user)
    detail = reverse("template_detail", args=[template.code])
    assert client.get(detail).status_code == 404
    assert client.post(reverse("template_share", args=[template.code]), {"user": "bob"}).status_code == 404

    owner_client.post(reverse("template_share", args=[template.code]), {"user": "bob", "group": ""})
    assert "Kit" in client.get(reverse("template_list")).content.decode()
    assert 'id="share-template"' not in client.get(detail).content.decode()  # only its owner shares
    response = client.post(reverse("template_run", args=[template.code]), {"records": globex.record_id})
    assert "no longer exists or is not shared with you" in said(response)
    assert client.get(reverse("template_edit", args=[template.code])).status_code == 404


def test_a_field_gone_from_the_metadata_is_refused_before_the_preview(owner_client, globex, owner):
    sb, profile, conn, src = globex
    request = copy_request(profile, "Accounts", [src], "clone", overrides={"Retired_Field": "x"})
    template = services.save_from_request(request=request, name="Old", user=owner)
    response = owner_client.post(reverse("template_run", args=[template.code]), {"records": src})
    assert "Accounts.Retired_Field" in said(response)
