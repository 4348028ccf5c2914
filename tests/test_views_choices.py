"""The preview's choices in the web wizard (issue 16), against the sandbox over HTTP."""

import pytest
from django.urls import reverse

from records.connectors import connector_for
from records.models import CopyJob


@pytest.fixture
def draft(fresh_sandbox, zoho_profile, owner_client):
    conn = connector_for(zoho_profile)
    src = next(r.id for r in conn.search("Accounts", "Globex").records if r.name == "Globex")
    session = owner_client.session
    session["copy_drafts"] = {
        "d1": {
            "profile": str(zoho_profile.code),
            "object_name": "Accounts",
            "source_ids": [src],
            "mode": "deep_copy",
            "overrides": {"Account_Name": "Globex W"},
            "row_overrides": {},
            "label": "Globex",
        }
    }
    session.save()
    return owner_client, conn, src


def test_untick_a_branch_set_a_child_field_then_confirm(draft, owner):
    client, conn, src = draft
    page = client.get(reverse("copy_preview", args=["d1"])).content.decode()
    assert 'name="include" value="Contacts" checked' in page and "How:" in page
    answer = client.post(
        reverse("copy_choices", args=["d1"]),
        {
            "object": ["Contacts", "Deals"],
            "include": ["Contacts"],
            "set": "Contacts:Last_Name={Last_Name} (web)",
            "lineage": "Contacts:Description",
            "skip_cadences": "on",
        },
    )
    assert answer.status_code == 302
    page = client.get(reverse("copy_preview", args=["d1"])).content.decode()
    assert 'name="include" value="Deals">' in page  # offered, unticked
    assert "(web)" in page and "Copied from" in page and "Cadences don&#x27;t start" in page
    client.post(reverse("copy_preview", args=["d1"]))
    job = CopyJob.objects.get()
    assert job.options["exclude"] == ["Deals"] and job.options["skip_cadences"] is True
    assert job.options["fields"] == {"Contacts": {"Last_Name": "{Last_Name} (web)"}}
    assert job.overrides == {"Account_Name": "Globex W"}
    assert not job.results.filter(object_name="Deals").exists()


def test_a_bad_choice_is_explained_on_the_preview(draft):
    client, conn, src = draft
    answer = client.post(reverse("copy_choices", args=["d1"]), {"set": "Contacts:Last_Name={Last_Name"}, follow=True)
    assert "Unmatched" in answer.content.decode()
