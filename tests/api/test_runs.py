"""Templates run through the API against the sandbox over HTTP: listed, previewed, confirmed once
per Idempotency-Key, queued on commit and run by a real RQ worker (Zoho), followed by status and
paged results, and undone with the job page's rules (Vault)."""

import json

import django_rq
import pytest
from rq import SimpleWorker

from records.copy_templates import services
from records.copying.options import CopyOptions
from records.models import AuditEvent, CopyJob
from tests.fixtures.api import bearer
from tests.fixtures.engine import copy_request, run_job
from tests.fixtures.sandbox import find_record

DONE = CopyJob.Status.SUCCEEDED


def post(client, path, secret, body=None, **headers):
    return client.post(path, json.dumps(body or {}), content_type="application/json", **bearer(secret), **headers)


def run_path(template):
    return f"/api/v1/templates/{template.code}/run/"


@pytest.fixture
def account_kit(globex, owner):
    sb, profile, conn, src = globex
    request = copy_request(
        profile,
        "Accounts",
        [src],
        "deep_copy",
        overrides={"Account_Name": "{Account_Name} (API)"},
        options=CopyOptions(exclude=("Deals",)),
    )
    return services.save_from_request(request=request, name="Account kit", user=owner)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_zoho_template_previewed_then_confirmed_once_and_run_by_a_worker(
    client, globex, account_kit, make_token, redis_url, django_capture_on_commit_callbacks
):
    sb, profile, conn, src = globex
    _, secret = make_token()
    listed = client.get("/api/v1/templates/", **bearer(secret)).json()
    assert [(t["name"], t["object_name"], t["mode"], t["version"]) for t in listed] == [
        ("Account kit", "Accounts", "deep_copy", 1)
    ]
    acme = find_record(conn, "Accounts", "Acme Corp")

    preview = post(client, run_path(account_kit), secret, {"ids": [acme], "preview": True})
    assert preview.status_code == 200, preview.json()
    plan = preview.json()
    assert plan["refused_reason"] == "" and plan["source_ids"] == [acme] and plan["total"] > 1
    assert {"object_name": "Accounts", "count": 1}.items() <= plan["objects"][0].items()
    assert "Deals" not in [o["object_name"] for o in plan["objects"]]
    assert not CopyJob.objects.exists()

    missing_key = post(client, run_path(account_kit), secret, {"ids": [acme]})
    assert missing_key.status_code == 400 and "Idempotency-Key" in missing_key.json()["detail"]
    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, run_path(account_kit), secret, {"ids": [acme]}, HTTP_IDEMPOTENCY_KEY="build-42")
    assert first.status_code == 201, first.json()
    retry = post(client, run_path(account_kit), secret, {"ids": [acme]}, HTTP_IDEMPOTENCY_KEY="build-42")
    assert (retry.status_code, retry.json()["code"]) == (200, first.json()["code"])
    job = CopyJob.objects.get()
    assert AuditEvent.objects.filter(action="template.run", job=job).count() == 1
    assert job.template_version == account_kit.versions.get(number=1)

    django_rq.get_worker("default", worker_class=SimpleWorker).work(burst=True)
    status = client.get(f"/api/v1/jobs/{job.code}/", **bearer(secret)).json()
    assert status["status"] == DONE and status["succeeded"] == status["planned"] > 1, status
    assert (status["template"], status["template_version"]) == (str(account_kit.code), 1)
    page = client.get(f"/api/v1/jobs/{job.code}/results/?page_size=2", **bearer(secret)).json()
    assert page["count"] == status["planned"] and len(page["results"]) == 2 and page["next"]
    top = page["results"][0]
    assert (top["object"], top["source_id"], top["outcome"], top["depth"]) == ("Accounts", acme, "succeeded", 0)
    assert conn.get("Accounts", top["new_id"]).fields["Account_Name"] == "Acme Corp (API)"


@pytest.mark.django_db
def test_one_key_for_another_templates_run_is_refused_409(client, globex, account_kit, make_token, owner):
    sb, profile, conn, src = globex
    other = services.save_from_request(
        request=copy_request(profile, "Accounts", [src], "clone"), name="Plain clone", user=owner
    )
    _, secret = make_token()
    first = post(client, run_path(account_kit), secret, {"ids": [src]}, HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 201
    reused = post(client, run_path(other), secret, {"ids": [src]}, HTTP_IDEMPOTENCY_KEY="k1")
    assert reused.status_code == 409 and "another run" in reused.json()["detail"]
    acme = find_record(conn, "Accounts", "Acme Corp")
    other_ids = post(client, run_path(account_kit), secret, {"ids": [acme]}, HTTP_IDEMPOTENCY_KEY="k1")
    assert other_ids.status_code == 409
    assert CopyJob.objects.count() == 1


@pytest.mark.django_db
def test_a_run_without_ids_copies_what_the_templates_saved_filter_finds(client, zoho, make_token, owner):
    sb, profile, conn = zoho
    options = CopyOptions(source_filter="(Industry:equals:Retail)", source_limit=50)
    request = copy_request(profile, "Accounts", [], "clone", options=options)
    template = services.save_from_request(request=request, name="Retail", user=owner)
    _, secret = make_token()
    preview = post(client, run_path(template), secret, {"preview": True}).json()
    assert len(preview["source_ids"]) >= 2 and preview["refused_reason"] == ""
    made = post(client, run_path(template), secret, {}, HTTP_IDEMPOTENCY_KEY="nightly-1")
    assert made.status_code == 201 and made.json()["source_ids"] == preview["source_ids"]
    assert post(client, run_path(template), secret, {}, HTTP_IDEMPOTENCY_KEY="nightly-1").status_code == 200
    assert CopyJob.objects.count() == 1


@pytest.mark.django_db
def test_a_saved_filter_matching_more_than_its_limit_is_refused_400_where_no_preview_is_read(
    client, zoho, make_token, owner
):
    sb, profile, conn = zoho
    options = CopyOptions(source_filter="(Industry:equals:Retail)", source_limit=1)
    request = copy_request(profile, "Accounts", [], "clone", options=options)
    template = services.save_from_request(request=request, name="Retail one", user=owner)
    _, secret = make_token()
    preview = post(client, run_path(template), secret, {"preview": True}).json()
    assert len(preview["source_ids"]) == 1  # a preview takes the newest one and says more match
    made = post(client, run_path(template), secret, {}, HTTP_IDEMPOTENCY_KEY="nightly-2")
    assert made.status_code == 400 and "than its limit of 1" in made.json()["detail"]
    assert not CopyJob.objects.exists()


@pytest.mark.django_db
def test_a_read_token_previews_but_may_not_confirm_and_another_users_template_is_404(
    client, globex, account_kit, make_token, other_user
):
    sb, profile, conn, src = globex
    _, read = make_token(scope="read")
    assert post(client, run_path(account_kit), read, {"ids": [src], "preview": True}).status_code == 200
    refused = post(client, run_path(account_kit), read, {"ids": [src]}, HTTP_IDEMPOTENCY_KEY="k")
    assert refused.status_code == 403 and "run scope" in refused.json()["detail"]
    _, stranger = make_token(user=other_user)
    assert post(client, run_path(account_kit), stranger, {"ids": [src], "preview": True}).status_code == 404
    assert client.get("/api/v1/templates/", **bearer(stranger)).json() == []

    services.share(template=account_kit, by=account_kit.owner, user=other_user)
    listed = client.get("/api/v1/templates/", **bearer(stranger)).json()
    assert [(t["owner"], t["name"]) for t in listed] == [("alice", "Account kit")]
    no_profile = post(client, run_path(account_kit), stranger, {"ids": [src], "preview": True})
    assert no_profile.status_code == 400 and "not shared with you" in no_profile.json()["detail"]
    assert not CopyJob.objects.exists()


@pytest.mark.django_db
def test_bad_input_is_refused_400_before_anything_is_queued(client, globex, account_kit, make_token):
    _, secret = make_token()
    no_ids = post(client, run_path(account_kit), secret, {"preview": True})
    assert no_ids.status_code == 400 and "this template has no saved filter" in no_ids.json()["detail"]
    not_a_list = post(client, run_path(account_kit), secret, {"ids": "x", "preview": True})
    assert not_a_list.status_code == 400
    assert not CopyJob.objects.exists()


@pytest.mark.django_db
def test_a_vault_template_run_then_undone_with_the_job_pages_rules(client, neurolax, make_token, owner):
    sb, profile, conn, src = neurolax
    template = services.save_from_request(
        request=copy_request(profile, "product__v", [src], "clone", overrides={"name__v": "{name__v} API"}),
        name="Product API",
        user=owner,
    )
    _, secret = make_token()
    other = find_record(conn, "product__v", "Cardiostat")
    made = post(client, run_path(template), secret, {"ids": [other]}, HTTP_IDEMPOTENCY_KEY="v-1")
    assert made.status_code == 201, made.json()
    job = run_job(CopyJob.objects.get(code=made.json()["code"]))
    assert job.status == DONE, job.error_summary
    copy_id = job.results.get().new_id
    assert conn.get("product__v", copy_id).fields["name__v"] == "Cardiostat API"

    jobs = f"/api/v1/jobs/{job.code}"
    assert post(client, f"{jobs}/cancel/", secret).json()["detail"] == "This job has already finished."
    assert post(client, f"{jobs}/resume/", secret).json()["detail"] == "Nothing to resume: every record is done."
    undo = post(client, f"{jobs}/undo/", secret)
    assert undo.status_code == 201 and undo.json()["undoes"] == str(job.code)
    again = post(client, f"{jobs}/undo/", secret)
    assert again.status_code == 409 and "is undoing this copy" in again.json()["detail"]

    undo_job = run_job(CopyJob.objects.get(code=undo.json()["code"]))
    assert undo_job.status == DONE, undo_job.error_summary
    after = client.get(f"{jobs}/", **bearer(secret)).json()
    assert (after["status"], after["undone_by"]) == ("undone", undo.json()["code"])
    assert not [r for r in conn.search("product__v", "Cardiostat API").records if r.id == copy_id]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_two_confirms_at_once_with_one_key_make_one_job(globex, account_kit, make_token, redis_url):
    """A pipeline's retry sent while the first call still plans: both answer the one job."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from django.test import Client

    sb, profile, conn, src = globex
    _, secret = make_token()

    def confirm(_):
        try:
            return post(Client(), run_path(account_kit), secret, {"ids": [src]}, HTTP_IDEMPOTENCY_KEY="twice")
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(confirm, range(2)))
    assert all(a.status_code in (200, 201) for a in answers), [a.content for a in answers]
    assert answers[0].json()["code"] == answers[1].json()["code"]
    assert CopyJob.objects.count() == 1
