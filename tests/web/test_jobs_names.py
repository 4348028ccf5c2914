"""Names everywhere (issue 15): jobs and result rows carry the record's display name as read for
the plan; titles, the job list and the admin find jobs by name or (partial) id; the job page's
per-object progress and live parts. Real engine, sandbox, database."""

import pytest
from django.urls import reverse

from records.copying.job_create import copy_job_create
from records.models import CopyJob, RecordResult
from tests.fixtures.engine import copy_request

pytestmark = pytest.mark.django_db


def _acme(sandbox):
    return next(i for i, r in sandbox.zoho.state.records["Accounts"].items() if r["Account_Name"] == "Acme Corp")


def _deep_copy_acme(zoho_profile, owner, sandbox):
    return copy_job_create(
        request=copy_request(zoho_profile, "Accounts", [_acme(sandbox)], "deep_copy"), user=owner, enqueue=False
    )


def test_a_deep_copy_carries_the_names_as_read_for_the_plan(zoho_profile, owner, fresh_sandbox):
    job = _deep_copy_acme(zoho_profile, owner, fresh_sandbox)
    assert job.source_name == "Acme Corp"
    assert job.title == "Deep copy of Acme Corp (Accounts)"
    top = job.results.get(depth=0)
    assert top.source_name == "Acme Corp"
    contacts = job.results.filter(object_name="Contacts")
    assert contacts.exists() and all(r.source_name for r in contacts)


def test_a_clone_is_titled_by_its_record(vault_profile, owner, fresh_sandbox):
    job = copy_job_create(
        request=copy_request(
            vault_profile, "product__v", ["00P000000000001"], "clone", overrides={"name__v": "Cardiostat copy"}
        ),
        user=owner,
        enqueue=False,
    )
    assert job.title == "Clone of Cardiostat (Products)"
    assert job.results.get().source_name == "Cardiostat"
    # The admin's lists and links (the result rows' job column) say it in the same words.
    assert str(job) == f"Job {job.pk}: Clone of Cardiostat (Products)"


def test_the_job_list_finds_jobs_by_name_and_partial_ids(owner_client, zoho_profile, owner, fresh_sandbox):
    job = _deep_copy_acme(zoho_profile, owner, fresh_sandbox)
    RecordResult.objects.filter(job=job, depth=0).update(new_id="5725767000009990001")
    url = reverse("job_list")
    for q in (
        "acme",
        _acme(fresh_sandbox)[-6:],
        "99900",
        job.results.filter(object_name="Contacts").first().source_name,
    ):
        body = owner_client.get(url, {"q": q}).content.decode()
        assert "Deep copy of Acme Corp" in body, q
    assert "Deep copy of Acme Corp" not in owner_client.get(url, {"q": "no-such-name"}).content.decode()


def test_the_job_page_shows_names_and_progress_per_object(owner_client, zoho_profile, owner, fresh_sandbox):
    job = _deep_copy_acme(zoho_profile, owner, fresh_sandbox)
    body = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert "<h1>Deep copy of Acme Corp (Accounts)</h1>" in body
    assert 'id="object-progress"' in body and 'data-object="Contacts"' in body
    assert '<option value="Contacts">Contacts</option>' in body  # the filter names objects by label
    rows = owner_client.get(reverse("job_rows", args=[job.code])).content.decode()
    assert "<td>Acme Corp</td>" in rows and "<td>Accounts</td>" in rows
    contacts = job.results.filter(object_name="Contacts")
    n = contacts.count()
    assert f">0/{n}<" in body
    RecordResult.objects.filter(pk=contacts.first().pk).update(status="succeeded", new_id="1")
    parts = owner_client.get(reverse("job_objects", args=[job.code])).json()
    row = next(o for o in parts["objects"] if o["object"] == "Contacts")
    assert (row["done"], row["total"], row["succeeded"]) == (1, n, 1)
    assert parts["outcomes"]["succeeded"] == 1 and parts["outcomes"]["pending"] == job.results.count() - 1


def test_the_admin_searches_jobs_by_name_and_partial_id(admin_client, zoho_profile, owner, fresh_sandbox):
    job = _deep_copy_acme(zoho_profile, owner, fresh_sandbox)
    url = reverse("admin:records_copyjob_changelist")
    assert f"/{job.pk}/" in admin_client.get(url, {"q": "Acme"}).content.decode()
    assert f"/{job.pk}/" in admin_client.get(url, {"q": _acme(fresh_sandbox)[-5:]}).content.decode()
    results = reverse("admin:records_recordresult_changelist")
    assert "Acme Corp" in admin_client.get(results, {"q": "acme"}).content.decode()


def test_vault_deep_copy_phase_is_shown(owner_client, vault_profile, owner, fresh_sandbox):
    job = copy_job_create(
        request=copy_request(
            vault_profile, "product__v", ["00P000000000001"], "deep_copy", overrides={"name__v": "Cardiostat deep"}
        ),
        user=owner,
        enqueue=False,
    )
    CopyJob.objects.filter(pk=job.pk).update(
        state={**job.state, "roots": {"00P000000000001": {"phase": "polling", "remote_job_id": "26001"}}},
        status=CopyJob.Status.RUNNING,
    )
    assert owner_client.get(reverse("job_objects", args=[job.code])).json()["phase"] == "Vault job 26001 running"
    page = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert "Vault job 26001 running" in page
    assert '<option value="product__v">Products</option>' in page  # labels first, in the filter and the rows
    assert "<td>Products</td>" in owner_client.get(reverse("job_rows", args=[job.code])).content.decode()


def test_the_live_parts_are_the_owners_only(other_user, owner_client, make_job):
    from django.test import Client

    job = make_job(results=3)
    stranger = Client()
    stranger.force_login(other_user)
    assert stranger.get(reverse("job_objects", args=[job.code])).status_code == 404
    assert owner_client.get(reverse("job_objects", args=[job.code])).status_code == 200


@pytest.mark.parametrize("status", ["failed", "partial", "succeeded"])
def test_a_finished_jobs_bar_takes_its_outcomes_colour(owner_client, make_job, status):
    job = make_job(results=2, status=status)
    body = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert f'class="progress done status-{status}"' in body
