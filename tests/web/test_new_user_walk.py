"""Defects found walking the app as a new user in a real browser (the sandbox over HTTP, the
Django client): each one a test before its fix."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_bulk_preview_names_the_object_by_its_label(owner_client, vault_profile, fresh_sandbox, redis_url):
    """The bulk preview said "Object: product__v product__v": the labels the bulk page had just
    listed were not kept, so the preview (which reads nothing remote) only had the API name."""
    code = str(vault_profile.code)
    page = owner_client.get(reverse("bulk_upload"), {"profile": code, "object": "product__v"}).content.decode()
    assert "Product (product__v)" in page
    upload = SimpleUploadedFile("p.csv", b"id,name__v\n00P000000000001,Cardiostat B\n", content_type="text/csv")
    sent = owner_client.post(reverse("bulk_upload"), {"profile": code, "object_name": "product__v", "file": upload})
    assert sent.status_code == 302, sent.content.decode()[-1500:]
    preview = owner_client.get(sent["Location"]).content.decode()
    assert '<dt>Object</dt><dd>Product <span class="mono muted small-text">product__v</span>' in preview


def test_all_fields_of_the_source_show_picklists_by_label(owner_client, vault_profile, fresh_sandbox):
    """ "All fields of the source record" showed Status as "['active__v']": a Python list of the
    value's API name, where the form above it says "Active"."""
    url = reverse("copy_record", args=[vault_profile.code, "product__v", "00P000000000001"])
    page = owner_client.get(url).content.decode()
    assert "[&#x27;" not in page and "active__v" not in page.split("All fields of the source record")[1]
    assert '<span class="mono muted">status__v</span></td><td>picklist</td><td>Active</td>' in page


@pytest.mark.plans_on_worker
def test_the_preview_names_changed_fields_by_label_while_it_is_read(
    owner_client, vault_profile, fresh_sandbox, redis_url
):
    """While the plan was read the summary said "description__c description__c = …" (labels came
    only with the plan), and a bulk file's "Changes per row" showed API names only."""
    url = reverse("copy_record", args=[vault_profile.code, "product__v", "00P000000000001"])
    form = {"mode": "clone", "f_name__v": "Cardiostat L", "f_description__c": "new words", "f_status__v": "active__v"}
    page = owner_client.get(url).content.decode()
    for name in ("launch_date__c", "price__c", "country__c"):  # the values the form starts with
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


def test_a_file_with_thousands_of_unknown_columns_gets_a_short_answer():
    """A header of 5,000 unknown columns answered with 5,000 lines, one per column."""
    from records.connectors.base import FieldInfo
    from records.web.bulk_csv import parse_bulk_csv

    fields = [FieldInfo(name="name__v", label="Name", type="text", editable=True)]
    header = ",".join(f"c{i}" for i in range(5000)) + ",c0"
    parsed = parse_bulk_csv(f"id,{header}\nP1\n", fields)
    assert not parsed.ok and len(parsed.errors) == 2, parsed.errors[:3]
    unknown = next(e for e in parsed.errors if e.startswith("Unknown columns"))
    assert "'c0', 'c1'" in unknown and "… and 4990 more" in unknown
    assert parsed.errors[0] == "Columns named more than once: c0."
    one = parse_bulk_csv("id,bogus__c\nP1,x\n", fields)
    assert one.errors == ["Unknown column 'bogus__c': there is no such field."]


def test_the_suggested_unique_name_is_one_still_free(owner_client, vault_profile, fresh_sandbox):
    """After one copy of Linked Product the fields step suggested "Linked Product (copy)" again
    and then refused its own suggestion as taken."""
    from records.connectors import connector_for

    conn = connector_for(vault_profile)
    for name in ("Cardiostat (copy)", "Cardiostat (copy 2)"):
        assert conn.create("product__v", [{"name__v": name, "status__v": ["active__v"]}])[0].ok
    url = reverse("copy_record", args=[vault_profile.code, "product__v", "00P000000000001"])
    page = owner_client.get(url).content.decode()
    assert 'name="f_name__v" value="Cardiostat (copy 3)"' in page
    neuro = owner_client.get(reverse("copy_record", args=[vault_profile.code, "product__v", "00P000000000002"]))
    assert 'name="f_name__v" value="Neurolax (copy)"' in neuro.content.decode()


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


def test_reference_boxes_name_the_record_they_hold(owner_client, vault_profile, zoho_profile, fresh_sandbox):
    """A reference box held a bare id ("00C000000000002", Owner "5725767000000150001") with
    nothing to say which record that is."""
    vault = owner_client.get(reverse("copy_record", args=[vault_profile.code, "product__v", "00P000000000001"]))
    assert '<span class="helptext ref-name">Source: Germany</span>' in vault.content.decode()
    zoho = owner_client.get(reverse("copy_record", args=[zoho_profile.code, "Accounts", "5725767000000200023"]))
    assert '<span class="helptext ref-name">Source: Sandbox Admin</span>' in zoho.content.decode()


def test_a_date_time_box_says_it_is_in_utc(owner_client, zoho_profile, fresh_sandbox):
    """Globex's Last Review (10:00 at +05:30) showed as 04:30 with nothing saying that is UTC."""
    page = owner_client.get(reverse("copy_record", args=[zoho_profile.code, "Accounts", "5725767000000200023"]))
    body = page.content.decode()
    assert 'value="2024-01-10T04:30"' in body
    assert '<span class="helptext">Date and time in UTC.</span>' in body


def test_an_undo_names_the_copies_it_deletes(vault, owner):
    """An undo job was "Undo of 2 records" and each of its rows had no name ("—")."""
    from records.copying.job_actions import copy_job_undo
    from tests.fixtures.engine import copy_now, run_job

    _, profile, _ = vault
    ids = ["00P000000000001", "00P000000000002"]
    rows = {"00P000000000001": {"name__v": "Cardio U"}, "00P000000000002": {"name__v": "Neuro U"}}
    job = copy_now(profile, owner, "product__v", ids, "clone", row_overrides=rows)
    assert job.status == "succeeded", job.error_summary
    undo = copy_job_undo(job=job, user=owner, enqueue=False)
    assert sorted(undo.results.values_list("source_name", flat=True)) == ["Cardio U", "Neuro U"]
    assert undo.title in ("Undo of Cardio U and 1 more (Products)", "Undo of Neuro U and 1 more (Products)")
    assert run_job(undo).status == "succeeded"


def test_reference_help_and_errors_speak_of_the_field_not_an_api_name(owner_client, vault_profile, fresh_sandbox):
    """ "Record id of country__v" and "No country__v record has the id bogus": API names where
    the person reads the field's label."""
    url = reverse("copy_record", args=[vault_profile.code, "product__v", "00P000000000001"])
    page = owner_client.get(url).content.decode()
    assert "Record id of the Country record: type a name to look one up." in page and "of country__v" not in page
    form = {"mode": "clone", "f_name__v": "Cardiostat R", "f_status__v": "active__v", "f_country__c": "bogus"}
    # The values the form starts with, sent back unchanged.
    form |= {"f_description__c": "Cardiostat demo product", "f_launch_date__c": "2019-02-02", "f_price__c": "12.5"}
    answer = owner_client.post(url, form).content.decode()
    assert "No Country record has the id bogus: pick one with the lookup." in answer
