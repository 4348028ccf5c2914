"""The admin as an audit tool: pages load for staff, secrets never appear and can't be looked up,
secrets change only on their own page, jobs and results are read-only, query counts stay flat."""

import pytest
from django.urls import reverse

from records.models import AuditEvent, ConnectionProfile, CopyJob

pytestmark = pytest.mark.django_db
SECRET = "s3cret-value"  # what make_profile stores
TOKEN = "1000.refresh-token-value"


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def audited(make_profile, make_job, owner):
    """A Zoho profile with both secrets, a job with results and an audit event."""
    profile = make_profile(
        name="Zoho EU",
        system="zoho",
        base_url="https://www.zohoapis.eu",
        accounts_url="https://accounts.zoho.eu",
        refresh_token=TOKEN,
        api_version="",
    )
    job = make_job(profile=profile, results=30, status=CopyJob.Status.PARTIAL)
    AuditEvent.objects.create(actor=owner, action="job.create", profile=profile, job=job, details={"n": 30})
    return profile, job


def _pages(profile, job):
    result = job.results.first()
    event = AuditEvent.objects.first()
    return [
        reverse("admin:index"),
        reverse("admin:records_connectionprofile_changelist"),
        reverse("admin:records_connectionprofile_changelist") + "?q=Zoho&system__exact=zoho",
        reverse("admin:records_connectionprofile_change", args=[profile.pk]),
        reverse("admin:records_connectionprofile_add"),
        reverse("admin:records_connectionprofile_secret", args=[profile.pk]),
        reverse("admin:records_copyjob_changelist"),
        reverse("admin:records_copyjob_changelist")
        + f"?status=partial&system=zoho&requested_by__id__exact={job.requested_by_id}",
        reverse("admin:records_copyjob_changelist") + "?q=S00003",
        reverse("admin:records_copyjob_changelist") + "?q=P1",
        reverse("admin:records_copyjob_change", args=[job.pk]),
        reverse("admin:records_recordresult_changelist"),
        reverse("admin:records_recordresult_changelist") + f"?job__id__exact={job.pk}&status__exact=failed",
        reverse("admin:records_recordresult_changelist") + "?q=N00001&system=zoho",
        reverse("admin:records_recordresult_change", args=[result.pk]),
        reverse("admin:records_auditevent_changelist") + "?action__exact=job.create",
        reverse("admin:records_auditevent_change", args=[event.pk]),
    ]


def test_admin_pages_load_and_never_contain_a_secret(staff_client, audited):
    for url in _pages(*audited):
        response = staff_client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert SECRET not in body and TOKEN not in body, url


def test_search_finds_jobs_by_record_ids(staff_client, audited, make_job):
    _, job = audited
    make_job(results=0)
    for term in ("S00003", "N00001", "P1", str(job.code)):
        response = staff_client.get(reverse("admin:records_copyjob_changelist"), {"q": term})
        assert job in response.context["cl"].result_list, term
    response = staff_client.get(reverse("admin:records_copyjob_changelist"), {"q": "S99999"})
    assert list(response.context["cl"].result_list) == []


def test_results_are_reachable_from_their_job(staff_client, audited):
    _, job = audited
    body = staff_client.get(reverse("admin:records_copyjob_changelist")).content.decode()
    link = reverse("admin:records_recordresult_changelist") + f"?job__id__exact={job.pk}"
    assert link in body
    response = staff_client.get(link)
    assert response.context["cl"].result_count == 30


@pytest.mark.parametrize(
    "lookup", ["secret__startswith", "refresh_token__startswith", "session_token", "profile__secret__startswith"]
)
def test_secrets_cannot_be_used_in_lookups(staff_client, audited, lookup):
    model = "copyjob" if lookup.startswith("profile__") else "connectionprofile"
    response = staff_client.get(reverse(f"admin:records_{model}_changelist"), {lookup: "s"})
    assert response.status_code == 400


def test_the_change_form_has_no_secret_input(staff_client, audited):
    profile, _ = audited
    response = staff_client.get(reverse("admin:records_connectionprofile_change", args=[profile.pk]))
    form = response.context["adminform"].form
    assert "secret" not in form.fields and "refresh_token" not in form.fields
    assert reverse("admin:records_connectionprofile_secret", args=[profile.pk]) in response.content.decode()


def test_the_change_form_saves_through_the_service(staff_client, audited, other_user):
    profile, _ = audited
    data = {
        "name": "Zoho Renamed",
        "system": "zoho",
        "base_url": "https://www.zohoapis.eu",
        "accounts_url": "https://accounts.zoho.eu",
        "api_version": "",
        "username": profile.username,
        "concurrency": "3",
        "owner": profile.owner_id,
        "shared_with_users": [other_user.pk],
    }
    response = staff_client.post(reverse("admin:records_connectionprofile_change", args=[profile.pk]), data)
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.name, profile.concurrency, profile.secret) == ("Zoho Renamed", 3, SECRET)
    assert list(profile.shared_with_users.all()) == [other_user]
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {"profile.update", "profile.share"}


def test_the_change_form_refuses_a_disallowed_url(staff_client, audited):
    profile, _ = audited
    data = {
        "name": "x",
        "system": "zoho",
        "base_url": "https://169.254.169.254",
        "accounts_url": "https://accounts.zoho.eu",
        "username": "u",
        "concurrency": "3",
        "owner": profile.owner_id,
    }
    response = staff_client.post(reverse("admin:records_connectionprofile_change", args=[profile.pk]), data)
    assert response.status_code == 200 and "IP addresses are not allowed" in response.content.decode()
    profile.refresh_from_db()
    assert profile.base_url == "https://www.zohoapis.eu"


def test_adding_a_profile_asks_for_the_secret_once(staff_client, owner):
    data = {
        "name": "Added",
        "system": "vault",
        "base_url": "https://acme.veevavault.com",
        "accounts_url": "",
        "api_version": "v25.2",
        "username": "me",
        "concurrency": "5",
        "owner": owner.pk,
        "secret": "added-pw",
        "refresh_token": "",
    }
    response = staff_client.post(reverse("admin:records_connectionprofile_add"), data)
    assert response.status_code == 302
    profile = ConnectionProfile.objects.get(name="Added")
    assert profile.secret == "added-pw" and profile.owner == owner
    assert "added-pw" not in str(list(AuditEvent.objects.values_list("details", flat=True)))


def test_set_secret_page_replaces_the_secret(staff_client, audited, staff):
    profile, _ = audited
    url = reverse("admin:records_connectionprofile_secret", args=[profile.pk])
    assert staff_client.post(url, {"secret": "", "refresh_token": ""}).status_code == 200  # nothing entered
    response = staff_client.post(url, {"secret": "brand-new", "refresh_token": ""})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.secret == "brand-new" and profile.refresh_token == TOKEN
    event = AuditEvent.objects.get(action="profile.update")
    assert event.actor == staff and event.details["secrets_replaced"] == ["secret"]
    assert "brand-new" not in staff_client.get(url).content.decode()


def test_jobs_results_and_audit_are_read_only(staff_client, audited):
    _, job = audited
    for model in ("copyjob", "recordresult", "auditevent"):
        assert staff_client.get(reverse(f"admin:records_{model}_add")).status_code == 403
    response = staff_client.post(reverse("admin:records_copyjob_change", args=[job.pk]), {"status": "succeeded"})
    assert response.status_code == 403
    assert staff_client.post(reverse("admin:records_copyjob_delete", args=[job.pk]), {"post": "yes"}).status_code == 403
    job.refresh_from_db()
    assert job.status == CopyJob.Status.PARTIAL


def test_cancel_action_calls_the_engine(staff_client, make_job, staff):
    job = make_job(status=CopyJob.Status.QUEUED)
    done = make_job(status=CopyJob.Status.SUCCEEDED)
    response = staff_client.post(
        reverse("admin:records_copyjob_changelist"),
        {"action": "cancel_jobs", "_selected_action": [job.pk, done.pk]},
        follow=True,
    )
    assert response.status_code == 200
    job.refresh_from_db()
    done.refresh_from_db()
    assert job.status == CopyJob.Status.CANCELLED and done.status == CopyJob.Status.SUCCEEDED
    assert AuditEvent.objects.filter(action="job.cancel", job=job, actor=staff).exists()
    assert "already finished" in response.content.decode()


def test_non_staff_are_kept_out(owner_client, audited):
    response = owner_client.get(reverse("admin:records_connectionprofile_changelist"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    assert owner_client.get("/admin/rq/").status_code == 302


def test_the_rq_dashboard_is_linked_from_the_admin(staff_client, redis_url):
    index = staff_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:django_rq_dashboard_changelist") in index
    assert staff_client.get(reverse("admin:django_rq_home")).status_code == 200
    assert staff_client.get("/admin/rq/").status_code == 200


@pytest.mark.parametrize(
    "url_name",
    [
        "records_connectionprofile_changelist",
        "records_copyjob_changelist",
        "records_recordresult_changelist",
        "records_auditevent_changelist",
    ],
)
def test_changelist_queries_do_not_grow_with_rows(
    staff_client, make_profile, make_job, owner, url_name, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def grow(n):
        for _ in range(n):
            job = make_job(results=3)
            AuditEvent.objects.create(actor=owner, action="job.create", profile=job.profile, job=job)

    url = reverse(f"admin:{url_name}")
    grow(2)
    with CaptureQueriesContext(connection) as few:
        assert staff_client.get(url).status_code == 200
    grow(20)
    with django_assert_max_num_queries(len(few)):
        assert staff_client.get(url).status_code == 200


def test_audit_and_plans_are_found_by_record_name_and_partial_id(staff_client, audited, owner):
    """Walk-through defects: the audit list found nothing by the copied record's name, the plans
    list nothing by a source id, and the admin pages had no icon (a /favicon.ico 404 on each)."""
    from records.models import CopyPlan

    profile, job = audited
    CopyJob.objects.filter(pk=job.pk).update(source_name="Acme Corp", source_ids=["0PR000000000123"])
    CopyPlan.objects.create(
        profile=profile,
        requested_by=owner,
        object_name="Accounts",
        mode="clone",
        source_ids=["0PR000000000123"],
        key="k",
    )
    audit = reverse("admin:records_auditevent_changelist")
    for term in ("Acme", "000000123"):
        assert staff_client.get(audit, {"q": term}).context["cl"].result_count == 1, term
    plans = reverse("admin:records_copyplan_changelist")
    assert staff_client.get(plans, {"q": "000000123"}).context["cl"].result_count == 1
    assert staff_client.get(plans, {"q": "999999"}).context["cl"].result_count == 0
    assert 'rel="icon" href="/static/records/favicon.svg"' in staff_client.get(reverse("admin:index")).content.decode()


def test_the_object_filters_name_objects_by_their_labels(staff_client, make_job):
    objects = [
        {"object_name": "product__v", "label": "Products", "count": 1, "depth": 0},
        {"object_name": "formulation__c", "label": "Formulations", "count": 2, "depth": 1},
    ]
    job = make_job(results=4, mode="deep_copy", plan={"objects": objects})
    for url in ("/admin/records/recordresult/", "/admin/records/copyjob/"):
        body = staff_client.get(url).content.decode()
        assert "By object" in body and "Products" in body, url
        if "recordresult" in url:
            assert ">Formulations (formulation__c)</a>" in body
    filtered = staff_client.get("/admin/records/recordresult/", {"object": "formulation__c"}).content.decode()
    assert "S00001" in filtered and "S00002" not in filtered
    assert job.pk
