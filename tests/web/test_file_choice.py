"""The preview's files choice (templates/records/_copy_choices.html, records/web/views/choices.py):
the counts and sizes shown, the box kept on the job's options, the profile remembering the choice,
and the job page's Files section."""

import pytest
from django.urls import reverse

from records.connectors import connector_for
from records.copying.options import CopyOptions
from records.copying.request import CopyRequest
from records.models import ConnectionProfile, CopyJob
from records.web import drafts
from tests.fixtures.engine import run_job
from tests.fixtures.web import put_draft


@pytest.fixture
def draft(fresh_sandbox, zoho_profile, owner_client):
    conn = connector_for(zoho_profile)
    src = next(r.id for r in conn.search("Accounts", "Acme Corp").records if r.name == "Acme Corp")
    put_draft(owner_client, zoho_profile, "Accounts", [src], overrides={"Account_Name": "Acme W"}, mode="clone")
    return owner_client, conn, src


def test_the_preview_shows_the_counts_and_the_choice_then_the_job_copies_the_files(draft, zoho_profile):
    client, conn, src = draft
    page = client.get(reverse("copy_preview", args=["d1"])).content.decode()
    assert 'name="files" aria-describedby="files-counts">' in page  # offered, unticked: left out by default
    assert "Not counted for 1 records" in page  # left out: no call spent on them

    client.post(reverse("copy_choices", args=["d1"]), {"files": "on"})
    page = client.get(reverse("copy_preview", args=["d1"])).content.decode()
    assert "1 attachment, " in page

    client.post(reverse("copy_choices", args=["d1"]), {"files": "on"})
    page = client.get(reverse("copy_preview", args=["d1"])).content.decode()
    assert 'name="files" checked' in page
    zoho_profile.refresh_from_db()
    assert zoho_profile.copy_files  # remembered as the next preview's default

    client.post(reverse("copy_confirm", args=["d1"]))
    job = CopyJob.objects.get()
    assert job.options["files"] is True
    page = client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert 'id="job-files"' in page and "Attachments (copied): 1 file," in page
    run_job(job)
    page = client.get(reverse("job_detail", args=[job.code])).content.decode()
    file = job.files.get()
    assert "notes.txt" in page and file.new_file_id in page and file.checksum in page and "Copied" in page


def test_a_new_draft_starts_from_the_profiles_remembered_choice(rf, zoho_profile):
    ConnectionProfile.objects.filter(pk=zoho_profile.pk).update(copy_files=True)
    zoho_profile.refresh_from_db()
    request = rf.get("/")
    request.session = {}
    copy = CopyRequest(profile=zoho_profile, object_name="Accounts", source_ids=("1",), mode="clone")

    key = drafts.save_draft(request, copy_request=copy)

    assert CopyOptions.from_dict(request.session["copy_drafts"][key]["options"]).files


def test_the_preview_shows_the_file_fields_beside_the_attachments(fresh_sandbox, zoho_profile, owner_client):
    conn = connector_for(zoho_profile)
    globex = next(r.id for r in conn.search("Accounts", "Globex").records if r.name == "Globex")
    put_draft(owner_client, zoho_profile, "Accounts", [globex], mode="deep_copy")

    owner_client.post(reverse("copy_choices", args=["d1"]), {"files": "on"})
    page = owner_client.get(reverse("copy_preview", args=["d1"])).content.decode()

    assert "3 attachments and " in page and " in file fields, " in page
    assert "Accounts 3 (20.1\xa0MB)" in page
