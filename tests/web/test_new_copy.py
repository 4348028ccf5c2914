"""The copy pages against the sandbox (real HTTP through the connectors): issue 15's broken items."""

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

pytestmark = pytest.mark.django_db

PRODUCTS = ("00P000000000001", "00P000000000002", "00P000000000003")


def _bulk(client, profile, object_name, text):
    upload = SimpleUploadedFile("rows.csv", text.encode(), content_type="text/csv")
    return client.post(
        reverse("bulk_upload"), {"profile": str(profile.code), "object_name": object_name, "file": upload}
    )


def test_bulk_clone_of_vault_products_with_new_names_can_be_confirmed(owner_client, vault_profile, fresh_sandbox):
    text = "id,name__v\n" + "".join(f"{pid},Copy {n}\n" for n, pid in enumerate(PRODUCTS, 1))
    response = _bulk(owner_client, vault_profile, "product__v", text)
    assert response.status_code == 302, response.content.decode()[:2000]
    body = owner_client.get(response["Location"]).content.decode()
    assert "be queued.</strong>" not in body and "Confirm and queue the copy" in body
    # The per-row changes are what the copies get: no "none" and no "the same field changes".
    assert "none: the copy keeps the source values" not in body
    assert "each with the same field changes" not in body
    assert "Copy 2" in body


def test_bulk_clone_of_zoho_accounts_says_the_changes_are_per_row(owner_client, zoho_profile, fresh_sandbox):
    ids = list(fresh_sandbox.zoho.state.records["Accounts"])[:2]
    text = "id,Account_Name,Account_Number\n" + "".join(f"{i},Acme {n},NEW-{n}\n" for n, i in enumerate(ids, 1))
    response = _bulk(owner_client, zoho_profile, "Accounts", text)
    assert response.status_code == 302, response.content.decode()[:2000]
    body = owner_client.get(response["Location"]).content.decode()
    assert "Confirm and queue the copy" in body
    assert "each with the same field changes" not in body and "none: the copy keeps" not in body
    assert "each with its own field changes" in body


def test_copy_record_page_explains_a_profile_whose_connector_cant_be_built(owner_client, vault_profile, settings):
    settings.ALLOW_LOOPBACK_CONNECTIONS = False  # the sandbox's http://127.0.0.1 URL is then refused
    response = owner_client.get(reverse("copy_record", args=[vault_profile.code, "product__v", PRODUCTS[0]]))
    assert response.status_code == 200
    assert "Traceback" not in response.content.decode()
    assert 'role="alert"' in response.content.decode()


def test_vault_record_links_open_a_record_page(fresh_sandbox):
    from records.connectors import connector_class
    from records.connectors.base import ProfileConfig
    from sandbox import demo

    config = ProfileConfig(
        system="vault",
        name="x",
        base_url=fresh_sandbox.vault_url,
        accounts_url="",
        api_version=demo.VAULT_API_VERSION,
        username=demo.VAULT_USERNAME,
        secret=demo.VAULT_PASSWORD,
        refresh_token="",
        concurrency=2,
        allow_loopback=True,
    )
    link = connector_class("vault")(config, None).record_url("product__v", PRODUCTS[0])
    shell = requests.get(link, timeout=5)  # the fragment stays in the browser
    assert shell.status_code == 200 and "text/html" in shell.headers["Content-Type"]
    assert 'src="/ui/open.js"' in shell.text and "<script>" not in shell.text
    assert "/ui/object/" in requests.get(fresh_sandbox.vault_url + "/ui/open.js", timeout=5).text
    page = requests.get(f"{fresh_sandbox.vault_url}/ui/object/product__v/{PRODUCTS[0]}", timeout=5)
    assert page.status_code == 200 and "<h1>Cardiostat</h1>" in page.text and "EXT-0001" in page.text
    missing = requests.get(f"{fresh_sandbox.vault_url}/ui/object/product__v/nope", timeout=5)
    assert missing.status_code == 404 and "text/html" in missing.headers["Content-Type"]


def test_zoho_record_links_open_a_record_page(fresh_sandbox):
    from records.connectors import connector_class
    from records.connectors.base import ProfileConfig
    from sandbox import demo

    config = ProfileConfig(
        system="zoho",
        name="x",
        base_url=fresh_sandbox.zoho_url,
        accounts_url=fresh_sandbox.zoho_url,
        api_version="",
        username=demo.ZOHO_CLIENT_ID,
        secret=demo.ZOHO_CLIENT_SECRET,
        refresh_token=demo.ZOHO_REFRESH_TOKEN,
        concurrency=2,
        allow_loopback=True,
    )
    account = next(iter(fresh_sandbox.zoho.state.records["Accounts"]))
    page = requests.get(connector_class("zoho")(config, None).record_url("Accounts", account), timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "<h1>Acme Corp</h1>" in page.text and "ACC-0001" in page.text


# -- The fields step: what the boxes show is what the copy gets --------------------------------


def _page(client, profile, object_name, record_id):
    return client.get(reverse("copy_record", args=[profile.code, object_name, record_id]))


def _as_posted(form) -> dict:
    """The form's boxes as the browser would send them untouched."""
    import datetime as dt

    from django import forms

    data = {}
    for bound in form:
        value = bound.value()
        widget = bound.field.widget
        if isinstance(widget, forms.NullBooleanSelect):
            data[bound.html_name] = {True: "true", False: "false"}.get(value, "unknown")
        elif isinstance(bound.field, forms.BooleanField):
            if value:
                data[bound.html_name] = "on"
        elif isinstance(bound.field, forms.MultipleChoiceField) and not value:
            continue  # no box ticked: the browser sends nothing
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [str(v) for v in value]
        elif isinstance(value, dt.datetime):
            data[bound.html_name] = value.strftime("%Y-%m-%dT%H:%M")
        elif isinstance(value, dt.date):
            data[bound.html_name] = value.isoformat()
        else:
            data[bound.html_name] = "" if value is None else str(value)
    return data


def _post(client, profile, object_name, record_id, **changes):
    data = _as_posted(_page(client, profile, object_name, record_id).context["form"])
    data.update(changes)
    return client.post(reverse("copy_record", args=[profile.code, object_name, record_id]), data)


def _draft(client, response):
    assert response.status_code == 302, _errors(response)
    return client.session["copy_drafts"][response["Location"].rstrip("/").split("/")[-1]]


def _errors(response) -> dict:
    return response.context["form"].errors if response.context and "form" in response.context else {}


def test_unique_and_never_copied_fields_start_empty_with_the_source_beside(owner_client, vault_profile, fresh_sandbox):
    response = _page(owner_client, vault_profile, "product__v", PRODUCTS[0])
    form = response.context["form"]
    assert form["f_external_id__v"].value() in (None, "")  # unique + no_copy: the copy gets it blank
    assert form["f_internal_code__c"].value() in (None, "")  # no_copy
    assert form["f_name__v"].value() == "Cardiostat (copy)"  # unique + required: a suggested new value
    body = response.content.decode()
    assert "Source: EXT-0001" in body and "Source: IC-0001" in body and "Source: Cardiostat" in body
    # Left as shown, the copy gets exactly that: the suggested name and nothing else.
    assert _draft(owner_client, _post(owner_client, vault_profile, "product__v", PRODUCTS[0]))["overrides"] == {
        "name__v": "Cardiostat (copy)"
    }


def test_an_emptied_box_is_an_error_unless_clear_is_ticked(owner_client, vault_profile, fresh_sandbox):
    response = _post(owner_client, vault_profile, "product__v", PRODUCTS[0], f_description__c="")
    assert "f_description__c" in _errors(response) and "tick “Clear”" in response.content.decode()
    assert "copy_drafts" not in owner_client.session
    # Chrome sends a number box holding "abc" or "1e999" as an empty value: refused, not cleared.
    response = _post(owner_client, vault_profile, "product__v", PRODUCTS[0], f_price__c="")
    assert "f_price__c" in _errors(response)
    cleared = _post(
        owner_client, vault_profile, "product__v", PRODUCTS[0], f_description__c="", clear_description__c="on"
    )
    assert _draft(owner_client, cleared)["overrides"]["description__c"] is None


def test_the_unique_name_is_checked_on_the_fields_step(owner_client, vault_profile, fresh_sandbox):
    same = _post(owner_client, vault_profile, "product__v", PRODUCTS[0], f_name__v="Cardiostat")
    assert "f_name__v" in _errors(same)
    taken = _post(owner_client, vault_profile, "product__v", PRODUCTS[0], f_name__v="Neurolax")
    assert "already used by Neurolax" in " ".join(_errors(taken).get("f_name__v", []))
    blank = _post(owner_client, vault_profile, "product__v", PRODUCTS[0], f_name__v="")
    assert "Cardiostat (copy)" in " ".join(_errors(blank).get("f_name__v", []))


def test_a_reference_to_no_record_is_refused_on_the_form(owner_client, vault_profile, fresh_sandbox):
    response = _post(owner_client, vault_profile, "product__v", PRODUCTS[0], f_country__c="00C000000009999")
    assert "No Country record" in " ".join(_errors(response).get("f_country__c", []))
    good = _post(owner_client, vault_profile, "product__v", PRODUCTS[0], f_country__c="00C000000000001")
    assert _draft(owner_client, good)["overrides"]["country__c"] == "00C000000000001"


def test_out_of_range_numbers_are_refused_on_the_form(owner_client, zoho_profile, fresh_sandbox):
    account = next(iter(fresh_sandbox.zoho.state.records["Accounts"]))
    response = _post(owner_client, zoho_profile, "Accounts", account, f_Employees="99999999999999999999")
    assert "f_Employees" in _errors(response)
    assert "copy_drafts" not in owner_client.session
    form = _page(owner_client, zoho_profile, "Accounts", account).context["form"]
    assert form["f_Account_Number"].value() in (None, "")  # unique ACC-0001: starts empty
    untouched = _draft(owner_client, _post(owner_client, zoho_profile, "Accounts", account))
    assert untouched["overrides"] == {}  # Account_Name isn't unique in Zoho; Account_Number stays blank


# -- Labels first, and steps that can be clicked -------------------------------------------------


def test_labels_come_first_and_picklists_are_offered_by_label(owner_client, vault_profile, fresh_sandbox):
    owner_client.get(reverse("copy_objects", args=[vault_profile.code]))
    search = owner_client.get(reverse("copy_search", args=[vault_profile.code, "product__v"])).content.decode()
    assert "Find a record of Product " in search
    body = _page(owner_client, vault_profile, "product__v", PRODUCTS[0]).content.decode()
    assert '<option value="active__v" selected>Active</option>' in body


def test_a_clicked_step_keeps_what_was_typed(owner_client, vault_profile, fresh_sandbox):
    response = _post(owner_client, vault_profile, "product__v", PRODUCTS[0], f_description__c="Typed here", goto="3")
    assert response.status_code == 302
    assert response["Location"] == reverse("copy_search", args=[vault_profile.code, "product__v"])
    again = _page(owner_client, vault_profile, "product__v", PRODUCTS[0])
    assert again.context["form"]["f_description__c"].value() == "Typed here"
    assert 'name="goto" value="3"' in again.content.decode()
    # A step number is all a click sends: nothing else is redirected to.
    evil = _post(owner_client, vault_profile, "product__v", PRODUCTS[0], goto="https://evil.example/")
    assert evil["Location"] == reverse("copy_record", args=[vault_profile.code, "product__v", PRODUCTS[0]])


def test_the_preview_goes_back_to_the_fields_as_typed(owner_client, vault_profile, fresh_sandbox):
    response = _post(owner_client, vault_profile, "product__v", PRODUCTS[0], f_description__c="For the copy")
    preview = owner_client.get(response["Location"]).content.decode()
    fields_url = reverse("copy_record", args=[vault_profile.code, "product__v", PRODUCTS[0]])
    assert f'<a href="{fields_url}">Back</a>' in preview
    assert owner_client.get(fields_url).context["form"]["f_description__c"].value() == "For the copy"


def test_a_refused_bulk_preview_links_to_the_upload(owner_client, vault_profile, fresh_sandbox):
    response = _bulk(
        owner_client, vault_profile, "product__v", "id,description__c\n" + "".join(f"{p},x\n" for p in PRODUCTS)
    )
    body = owner_client.get(response["Location"]).content.decode()
    assert "be queued.</strong>" in body
    assert f'<a href="{reverse("bulk_upload")}">Upload another file</a>' in body


def test_reference_fields_have_a_lookup_by_name(owner_client, vault_profile, other_user, fresh_sandbox):
    body = _page(owner_client, vault_profile, "product__v", PRODUCTS[0]).content.decode()
    assert 'data-lookup="country__v"' in body and "records/lookup.js" in body
    country = fresh_sandbox.vault.state.records["country__v"]["00C000000000001"]["name__v"]
    url = reverse("record_lookup", args=[vault_profile.code, "country__v"])
    found = owner_client.get(url, {"q": country[:4]}).json()["results"]
    assert {"id": "00C000000000001", "name": country} in found
    assert owner_client.get(url, {"q": "no such country at all"}).json()["results"] == []
    from django.test import Client

    stranger = Client()
    stranger.force_login(other_user)
    assert stranger.get(url, {"q": "a"}).status_code == 404  # not their profile


# -- Bulk clone: the object from a list, a template to fill in --------------------------------


def test_bulk_clone_offers_the_profiles_objects_from_a_list(owner_client, vault_profile, fresh_sandbox):
    body = owner_client.get(reverse("bulk_upload"), {"profile": str(vault_profile.code)}).content.decode()
    assert '<option value="product__v">Product (product__v)</option>' in body
    chosen = owner_client.get(reverse("bulk_upload"), {"profile": str(vault_profile.code), "object": "product__v"})
    body = chosen.content.decode()
    assert 'type="hidden" name="object_name" value="product__v"' in body
    assert reverse("bulk_template") + f"?profile={vault_profile.code}&amp;object=product__v" in body


@pytest.mark.parametrize("system", ["vault", "zoho"])
def test_the_csv_template_lists_editable_fields_and_real_ids_and_previews_as_is(
    owner_client, vault_profile, zoho_profile, fresh_sandbox, system
):
    import csv
    import io

    profile, object_name = (vault_profile, "product__v") if system == "vault" else (zoho_profile, "Accounts")
    response = owner_client.get(reverse("bulk_template"), {"profile": str(profile.code), "object": object_name})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header, examples = rows[0], rows[1:]
    assert header[0] == "id" and len(examples) == 2
    state = (
        fresh_sandbox.vault.state.records["product__v"]
        if system == "vault"
        else fresh_sandbox.zoho.state.records["Accounts"]
    )
    assert all(row[0] in state for row in examples)  # ids that exist
    if system == "vault":
        assert "name__v" in header and "created_date__v" not in header and "id" not in header[1:]
        assert examples[0][header.index("name__v")].endswith(" (copy)")
    uploaded = _bulk(owner_client, profile, object_name, response.content.decode())
    assert uploaded.status_code == 302, uploaded.content.decode()[-3000:]
    preview = owner_client.get(uploaded["Location"]).content.decode()
    assert "Confirm and queue the copy" in preview


def test_a_second_confirm_of_one_preview_queues_nothing(owner_client, vault_profile, fresh_sandbox, redis_url):
    from records.models import CopyJob

    response = _post(owner_client, vault_profile, "product__v", PRODUCTS[0])
    draft_id = response["Location"].rstrip("/").split("/")[-1]
    draft = owner_client.session["copy_drafts"][draft_id]
    confirm = reverse("copy_confirm", args=[draft_id])
    assert owner_client.post(confirm).status_code == 302
    # The second request of a double-click read the session before the first dropped the draft.
    session = owner_client.session
    session["copy_drafts"] = {draft_id: draft}
    session.save()
    again = owner_client.post(confirm)
    job = CopyJob.objects.get()  # one job only, and the repeat answers with it (issue 13)
    assert again.status_code == 302 and again["Location"] == reverse("job_detail", args=[job.code])


def test_after_confirm_the_record_starts_from_its_own_values_again(
    owner_client, vault_profile, fresh_sandbox, redis_url
):
    response = _post(owner_client, vault_profile, "product__v", PRODUCTS[0], f_description__c="Once")
    draft_id = response["Location"].rstrip("/").split("/")[-1]
    assert owner_client.post(reverse("copy_confirm", args=[draft_id])).status_code == 302
    form = _page(owner_client, vault_profile, "product__v", PRODUCTS[0]).context["form"]
    assert form["f_description__c"].value() == "Cardiostat demo product"


def test_the_csv_template_leaves_out_a_name_a_spreadsheet_would_run(owner_client, vault_profile, fresh_sandbox):
    fresh_sandbox.vault.state.records["product__v"][PRODUCTS[0]]["name__v"] = "=HYPERLINK(1)"
    response = owner_client.get(reverse("bulk_template"), {"profile": str(vault_profile.code), "object": "product__v"})
    body = response.content.decode()
    assert PRODUCTS[0] in body and "=HYPERLINK" not in body
