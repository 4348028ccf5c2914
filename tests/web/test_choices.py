"""The preview's choices page (records/web/views/choices.py): leave out a branch, set and clear
fields on every level, templates, the lineage stamp; against the sandbox over HTTP."""

import pytest
from django.urls import reverse

from records.connectors import connector_for
from records.models import CopyJob
from tests.fixtures.web import put_draft


@pytest.fixture
def draft(fresh_sandbox, zoho_profile, owner_client):
    conn = connector_for(zoho_profile)
    src = next(r.id for r in conn.search("Accounts", "Globex").records if r.name == "Globex")
    put_draft(owner_client, zoho_profile, "Accounts", [src], overrides={"Account_Name": "Globex W"}, label="Globex")
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
    client.post(reverse("copy_confirm", args=["d1"]))
    job = CopyJob.objects.get()
    assert job.options["exclude"] == ["Deals"] and job.options["skip_cadences"] is True
    assert job.options["fields"] == {"Contacts": {"Last_Name": "{Last_Name} (web)"}}
    # The labels of the fields it sets, from the plan's stored describes: the job page names them.
    assert job.plan["field_labels"]["Contacts"]["Last_Name"] == "Last Name"
    assert job.plan["field_labels"]["Accounts"]["Account_Name"] == "Account Name"  # the top's override
    assert job.overrides == {"Account_Name": "Globex W"}
    assert not job.results.filter(object_name="Deals").exists()


def test_a_bad_choice_is_explained_on_the_preview(draft):
    client, conn, src = draft
    answer = client.post(reverse("copy_choices", args=["d1"]), {"set": "Contacts:Last_Name={Last_Name"}, follow=True)
    assert "Unmatched" in answer.content.decode()


def test_the_widget_rows_are_the_cli_items_and_come_back_on_reload(draft):
    client, conn, src = draft
    page = client.get(reverse("copy_preview", args=["d1"])).content.decode()
    assert 'name="ch-0-object"' in page and 'name="lin-0-object"' in page  # one blank row each
    answer = client.post(
        reverse("copy_choices", args=["d1"]),
        {
            "object": ["Contacts", "Deals"],
            "include": ["Contacts", "Deals"],
            "ch-0-object": "Contacts",
            "ch-0-field": "Last_Name",
            "ch-0-value": "{Last_Name} (w)",
            "ch-1-object": "Deals",
            "ch-1-field": "Description",
            "ch-1-clear": "on",
            "ch-2-object": "Accounts",  # the top object: the top record's override
            "ch-2-field": "Description",
            "ch-2-value": "Top {today}",
            "ch-3-object": "Accounts",
            "ch-3-field": "",  # a blank row is ignored
            "lin-0-object": "Contacts",
            "lin-0-field": "Description",
        },
    )
    assert answer.status_code == 302
    options = client.session["copy_drafts"]["d1"]["options"]
    assert options["fields"] == {"Contacts": {"Last_Name": "{Last_Name} (w)"}, "Deals": {"Description": None}}
    assert options["lineage"] == {"Contacts": "Description"}
    assert client.session["copy_drafts"]["d1"]["overrides"] == {
        "Account_Name": "Globex W",
        "Description": "Top {today}",
    }
    page = client.get(reverse("copy_preview", args=["d1"])).content.decode()
    # Rendered back, each with its object's fields, the chosen one selected; then a blank row.
    assert 'value="{Last_Name} (w)"' in page and '<option value="Last_Name" selected>' in page
    assert 'name="ch-1-clear" checked' in page and 'name="ch-3-field"' in page
    assert '<option value="Contacts" selected>' in page and 'name="lin-1-object"' in page


def test_a_widget_row_with_neither_value_nor_clear_is_refused(draft):
    client, conn, src = draft
    answer = client.post(
        reverse("copy_choices", args=["d1"]), {"ch-0-object": "Contacts", "ch-0-field": "Last_Name"}, follow=True
    )
    assert "Contacts:Last_Name: give a value, or tick Clear" in answer.content.decode()


def test_the_fields_endpoint_is_one_describe_labels_first(draft, zoho_profile, sandbox):
    client, conn, src = draft
    before = len(sandbox.log("zoho"))
    answer = client.get(reverse("copy_object_fields", args=[zoho_profile.code, "Contacts"]))
    calls = [e for e in sandbox.log("zoho")[before:] if "/settings/fields" in e.path]
    assert answer.status_code == 200 and len(calls) == 1
    fields = answer.json()["fields"]
    labels = [f["label"].lower() for f in fields]
    assert (
        labels == sorted(labels)
        and {"name": "Last_Name", "label": "Last Name"}.items()
        <= next(f for f in fields if f["name"] == "Last_Name").items()
    )
    assert "Lead_Score" not in {f["name"] for f in fields}  # read-only: can't be set
    bad = client.get(reverse("copy_object_fields", args=[zoho_profile.code, "Nope"])).json()
    assert bad["fields"] == [] and bad["error"]


def test_choice_lines_over_the_limit_are_refused_not_cut(draft):
    client, conn, src = draft
    lines = "Contacts:Last_Name=x\n" * 1000  # 21,000 characters
    page = client.post(reverse("copy_choices", args=["d1"]), {"set": lines}, follow=True).content.decode()
    assert "The set lines are longer than 20,000 characters" in page
    assert "options" not in client.session["copy_drafts"]["d1"]  # nothing was kept


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_failed_preview_keeps_each_chosen_rows_object(vault_profile, fresh_sandbox):
    """A choice that made the plan fail (a bad value for Formulations) came back on a row whose
    object select no longer offered Formulations: it showed the top object beside Formulations'
    fields, and sending it again would have moved the change to another object."""
    from records.copying.options import CopyOptions
    from records.web.views.choices import widgets

    draft = {
        "object_name": "product__v",
        "choice_rows": {
            "changes": [
                {"object": "formulation__c", "field": "strength__c", "value": "x", "clear": False, "unique": False}
            ],
            "lineage": [],
        },
    }
    shown = widgets(vault_profile, draft, None, CopyOptions.from_dict({"exclude": ["packaging__c"]}))
    names = [name for name, _ in shown["objects"]]
    assert names[0] == "product__v" and "formulation__c" in names and "packaging__c" in names
    assert shown["changes"][0]["object"] == "formulation__c"
    assert "strength__c" in [f["name"] for f in shown["changes"][0]["fields"]]


def test_lineage_offers_the_profiles_default_only_when_there_is_one(draft, zoho_profile):
    client, conn, src = draft
    page = client.get(reverse("copy_preview", args=["d1"])).content.decode()
    assert "the profile's default" not in page and "— choose a text field —" in page
    # Sent without a field and with no default: said in the page's words, not the command's.
    answer = client.post(reverse("copy_choices", args=["d1"]), {"lin-0-object": "Contacts"}, follow=True)
    body = answer.content.decode()
    assert "choose the text field to stamp on Contacts" in body and "name the field (OBJECT:FIELD)" not in body
    zoho_profile.lineage_fields = {"Contacts": "Description"}
    zoho_profile.save()
    client.post(reverse("copy_choices", args=["d1"]), {"lin-0-object": "Contacts"})
    page = client.get(reverse("copy_preview", args=["d1"])).content.decode()
    assert "the profile's default (Description)" in page
