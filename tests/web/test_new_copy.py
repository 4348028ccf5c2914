"""The new-copy wizard (records/web/views/new_copy.py): objects, search, the record page and its
fields step, Confirm. First against a fake connector put in the registry, then against the sandbox
(real HTTP through the connectors)."""

import pytest
import requests
from django.urls import reverse

from records.connectors.errors import AuthFailed, Unavailable
from sandbox import demo
from tests.fixtures.sandbox import find_record

pytestmark = pytest.mark.django_db

PRODUCTS = ("00P000000000001", "00P000000000002", "00P000000000003")


# -- the wizard against a fake connector put in the registry ----------------------------------------


def test_objects_are_listed_and_searchable(owner_client, make_profile, fake_connector):
    profile = make_profile()
    body = owner_client.get(reverse("copy_objects", args=[profile.code])).content.decode()
    assert "product__v" in body and "country__v" in body
    body = owner_client.get(reverse("copy_objects", args=[profile.code]), {"q": "prod"}).content.decode()
    assert "product__v" in body and "country__v" not in body


def test_wizard_refuses_other_users_profile(owner_client, other_user, make_profile, fake_connector):
    theirs = make_profile(name="Theirs", user=other_user)
    for url in (
        reverse("copy_objects", args=[theirs.code]),
        reverse("copy_search", args=[theirs.code, "product__v"]),
        reverse("copy_record", args=[theirs.code, "product__v", "P100"]),
    ):
        assert owner_client.get(url).status_code == 404
    assert owner_client.post(reverse("copy_record", args=[theirs.code, "product__v", "P100"])).status_code == 404


def test_search_finds_records_and_escapes_names(owner_client, make_profile, fake_connector):
    profile = make_profile()
    body = owner_client.get(
        reverse("copy_search", args=[profile.code, "product__v"]), {"q": "aspirin"}
    ).content.decode()
    assert "Aspirin &lt;b&gt;bold&lt;/b&gt;" in body and "<b>bold</b>" not in body
    assert reverse("copy_record", args=[profile.code, "product__v", "P100"]) in body


def test_connector_errors_are_explained_without_traceback(owner_client, make_profile, fake_connector):
    profile = make_profile()
    fake_connector.fail_with = AuthFailed("Username or password is incorrect", error_type="INVALID_SESSION_ID")
    body = owner_client.get(reverse("copy_objects", args=[profile.code])).content.decode()
    assert "refused the credentials" in body and "INVALID_SESSION_ID" in body
    assert "Traceback" not in body and "s3cret-value" not in body
    fake_connector.fail_with = Unavailable("Connection refused")
    body = owner_client.get(reverse("copy_search", args=[profile.code, "product__v"])).content.decode()
    assert "Couldn&#x27;t reach Veeva Vault" in body


def test_record_page_offers_a_widget_per_type(owner_client, make_profile, fake_connector):
    profile = make_profile()
    response = owner_client.get(reverse("copy_record", args=[profile.code, "product__v", "P100"]))
    body = response.content.decode()
    assert 'type="date"' in body and 'name="f_launch_date__c"' in body and 'value="2024-05-01"' in body
    assert '<option value="active__v" selected>' in body
    assert 'type="number"' in body
    assert 'name="f_id"' not in body and 'name="f_photo"' not in body  # read-only, file
    assert 'name="clear_external_id__v"' in body and 'name="clear_name__v"' not in body  # required
    assert "Aspirin &lt;b&gt;bold&lt;/b&gt;" in body


def _post_overrides(client, profile, **changes):
    data = {
        "mode": "clone",
        # What the page shows: the unique name with a suggested new value, the unique id empty.
        "f_name__v": "Aspirin <b>bold</b> (copy)",
        "f_external_id__v": "",
        "f_status__v": "active__v",
        "f_price__c": "12.5",
        "f_units__c": "3",
        "f_launch_date__c": "2024-05-01",
        "f_orphan__c": "false",
        "f_country__c": "C1",
    }
    data.update(changes)
    return client.post(reverse("copy_record", args=[profile.code, "product__v", "P100"]), data)


def test_only_changed_and_cleared_fields_become_overrides(owner_client, make_profile, fake_connector):
    profile = make_profile()
    response = _post_overrides(
        owner_client, profile, f_name__v="Aspirin copy", clear_external_id__v="on", f_price__c="13.75"
    )
    assert response.status_code == 302
    draft_id = response["Location"].rstrip("/").split("/")[-1]
    draft = owner_client.session["copy_drafts"][draft_id]
    assert draft["overrides"] == {"name__v": "Aspirin copy", "external_id__v": None, "price__c": 13.75}
    assert draft["source_ids"] == ["P100"] and draft["mode"] == "clone"


def test_required_field_cannot_be_blanked(owner_client, make_profile, fake_connector):
    profile = make_profile()
    response = _post_overrides(owner_client, profile, f_name__v="")
    assert response.status_code == 200
    assert "is unique and required: give the copy a value" in response.content.decode()
    assert "copy_drafts" not in owner_client.session


def test_bad_values_are_refused_per_field(owner_client, make_profile, fake_connector):
    profile = make_profile()
    response = _post_overrides(owner_client, profile, f_units__c="lots", f_status__v="bogus")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter a whole number" in body and "Select a valid choice" in body


def test_preview_of_an_unknown_draft_is_404(owner_client):
    assert owner_client.get(reverse("copy_preview", args=["nope"])).status_code == 404


# -- the record page against the sandbox: links in, a profile that can't connect -------------------


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


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
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
    # Account_Number stays blank; the name, not unique in Zoho, is offered as "… (copy)" as Vault's is.
    name = fresh_sandbox.zoho.state.records["Accounts"][account]["Account_Name"]
    assert untouched["overrides"] == {"Account_Name": f"{name} (copy)"}


# -- Labels first, and steps that can be clicked -------------------------------------------------


def test_labels_come_first_and_picklists_are_offered_by_label(owner_client, vault_profile, fresh_sandbox):
    owner_client.get(reverse("copy_objects", args=[vault_profile.code]))
    search = owner_client.get(reverse("copy_search", args=[vault_profile.code, "product__v"])).content.decode()
    assert "Find a record of Product " in search
    body = _page(owner_client, vault_profile, "product__v", PRODUCTS[0]).content.decode()
    assert '<option value="active__v" selected>Active</option>' in body


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_all_fields_of_the_source_show_picklists_by_label(owner_client, vault_profile, fresh_sandbox):
    """ "All fields of the source record" showed Status as "['active__v']": a Python list of the
    value's API name, where the form above it says "Active"."""
    url = reverse("copy_record", args=[vault_profile.code, "product__v", "00P000000000001"])
    page = owner_client.get(url).content.decode()
    assert "[&#x27;" not in page and "active__v" not in page.split("All fields of the source record")[1]
    assert '<span class="mono muted">status__v</span></td><td>picklist</td><td>Active</td>' in page


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_reference_boxes_name_the_record_they_hold(owner_client, vault_profile, zoho_profile, fresh_sandbox):
    """A reference box held a bare id ("00C000000000002", Owner "5725767000000150001") with
    nothing to say which record that is."""
    vault = owner_client.get(reverse("copy_record", args=[vault_profile.code, "product__v", "00P000000000001"]))
    assert '<span class="helptext ref-name">Source: Germany</span>' in vault.content.decode()
    zoho = owner_client.get(reverse("copy_record", args=[zoho_profile.code, "Accounts", "5725767000000200023"]))
    assert '<span class="helptext ref-name">Source: Sandbox Admin</span>' in zoho.content.decode()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_reference_help_and_errors_speak_of_the_field_not_an_api_name(owner_client, vault_profile, fresh_sandbox):
    """ "Record id of country__v" and "No country__v record has the id bogus": API names where
    the person reads the field's label."""
    url = reverse("copy_record", args=[vault_profile.code, "product__v", "00P000000000001"])
    page = owner_client.get(url).content.decode()
    assert "Type a name and pick the Country record (or give its id)." in page and "country__v record" not in page
    form = {"mode": "clone", "f_name__v": "Cardiostat R", "f_status__v": "active__v", "f_country__c": "bogus"}
    # The values the form starts with, sent back unchanged.
    form |= {"f_description__c": "Cardiostat demo product", "f_launch_date__c": "2019-02-02", "f_price__c": "12.5"}
    form |= {"f_product_manager__c": str(demo.VAULT_DATA_USER_ID)}
    answer = owner_client.post(url, form).content.decode()
    assert "No Country record has the id bogus: pick one with the lookup." in answer


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_date_time_box_says_it_is_in_utc(owner_client, zoho_profile, fresh_sandbox):
    """Globex's Last Review (10:00 at +05:30) showed as 04:30 with nothing saying that is UTC."""
    page = owner_client.get(reverse("copy_record", args=[zoho_profile.code, "Accounts", "5725767000000200023"]))
    body = page.content.decode()
    assert 'value="2024-01-10T04:30"' in body
    assert '<span class="helptext">Date and time in UTC.</span>' in body


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


# -- Confirm: its own POST-only view, once per preview -----------------------------------------------


def _previewed(client, profile, key="d1"):
    from tests.fixtures.web import put_draft

    put_draft(client, profile, "product__v", ["P100"], mode="clone", overrides={"name__v": "Copy"}, key=key)
    assert client.get(reverse("copy_preview", args=[key])).status_code == 200


def test_confirm_makes_the_job_and_goes_to_its_page(owner_client, make_profile, fake_connector):
    from records.models import CopyJob

    _previewed(owner_client, make_profile())
    response = owner_client.post(reverse("copy_confirm", args=["d1"]))
    job = CopyJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("job_detail", args=[job.code])
    assert job.status == CopyJob.Status.QUEUED and job.confirmation == "d1" and job.rq_job_id
    assert "d1" not in owner_client.session["copy_drafts"]


def test_confirm_refuses_a_get_and_another_sessions_draft(
    owner_client, client, other_user, make_profile, fake_connector
):
    from records.models import CopyJob

    _previewed(owner_client, make_profile())
    assert owner_client.get(reverse("copy_confirm", args=["d1"])).status_code == 405
    client.force_login(other_user)
    assert client.post(reverse("copy_confirm", args=["d1"])).status_code == 404
    assert not CopyJob.objects.exists()


def test_a_post_to_the_preview_is_sent_on_to_confirm_keeping_its_method(owner_client, make_profile, fake_connector):
    """A preview page opened before Confirm had its own URL posts to the preview's."""
    from records.models import CopyJob

    _previewed(owner_client, make_profile())
    response = owner_client.post(reverse("copy_preview", args=["d1"]))
    assert response.status_code == 308 and response["Location"] == reverse("copy_confirm", args=["d1"])
    followed = owner_client.post(reverse("copy_preview", args=["d1"]), follow=True)
    job = CopyJob.objects.get()
    assert followed.redirect_chain[-1][0] == reverse("job_detail", args=[job.code])


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
    job = CopyJob.objects.get()  # one job only, and the repeat answers with it
    assert again.status_code == 302 and again["Location"] == reverse("job_detail", args=[job.code])


def test_after_confirm_the_record_starts_from_its_own_values_again(
    owner_client, vault_profile, fresh_sandbox, redis_url
):
    response = _post(owner_client, vault_profile, "product__v", PRODUCTS[0], f_description__c="Once")
    draft_id = response["Location"].rstrip("/").split("/")[-1]
    assert owner_client.post(reverse("copy_confirm", args=[draft_id])).status_code == 302
    form = _page(owner_client, vault_profile, "product__v", PRODUCTS[0]).context["form"]
    assert form["f_description__c"].value() == "Cardiostat demo product"


def test_zoho_suggests_a_copys_name_as_vault_does(owner_client, zoho_profile, fresh_sandbox):
    """Vault offered "Cardiostat (copy)"; Zoho, whose names are not unique, pre-filled the source's
    own name, so a copy left as shown was named like its source."""
    from records.connectors import connector_for

    acme = next(r for r in connector_for(zoho_profile).search("Accounts", "Acme Corp").records)
    form = _page(owner_client, zoho_profile, "Accounts", acme.id).context["form"]
    assert form["f_Account_Name"].value() == "Acme Corp (copy)"
    # Left as shown, the copy gets the suggested name.
    assert _draft(owner_client, _post(owner_client, zoho_profile, "Accounts", acme.id))["overrides"] == {
        "Account_Name": "Acme Corp (copy)"
    }
    # Typed back to the source's name, Zoho allows it and the copy keeps it.
    same = _post(owner_client, zoho_profile, "Accounts", acme.id, f_Account_Name="Acme Corp")
    assert _draft(owner_client, same)["overrides"] == {"Account_Name": "Acme Corp"}


def test_zoho_search_lists_records_by_name(zoho):
    sb, _, conn = zoho
    names = [r.name for r in conn.search("Accounts", "", per_page=50).records]
    assert names == sorted(names, key=str.lower) and len(names) > 3


def test_make_unique_on_the_top_name_passes_the_fields_step_and_the_preview_says_the_number(
    owner_client, vault_profile, fresh_sandbox
):
    """The fields step refused a taken name before the preview, where "Make unique" was; ticked,
    the preview showed no effect."""
    refused = _post(owner_client, vault_profile, "product__v", PRODUCTS[0], f_name__v="Cardiostat")
    assert "f_name__v" in _errors(refused)
    sent = _post(owner_client, vault_profile, "product__v", PRODUCTS[0], f_name__v="Cardiostat", unique_name__v="on")
    draft = _draft(owner_client, sent)
    assert draft["overrides"]["name__v"] == "Cardiostat"
    assert draft["options"]["unique"] == {"product__v": ["name__v"]}
    page = owner_client.get(sent["Location"]).content.decode()
    assert "“Cardiostat” is taken: the copy is named “Cardiostat (2)”" in page


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_owner_boxes_look_users_up_by_name(owner_client, zoho_profile, fresh_sandbox):
    """Zoho's Owner points at Users: its box offers the CRM's users by name or e-mail, as the
    record boxes offer records, rather than asking for a user id."""
    page = owner_client.get(reverse("copy_record", args=[zoho_profile.code, "Accounts", "5725767000000200023"]))
    body = page.content.decode()
    assert 'data-lookup="Users"' in body and "pick a user (by name or e-mail)" in body
    url = reverse("record_lookup", args=[zoho_profile.code, "Users"])
    assert owner_client.get(url, {"q": "rep"}).json()["results"] == [
        {"id": "5725767000000150002", "name": "Sandbox Rep"}
    ]
    by_mail = owner_client.get(url, {"q": "data.migration@"}).json()["results"]
    assert [r["name"] for r in by_mail] == ["Data Migration"]
    assert owner_client.get(url, {"q": "nobody like this"}).json()["results"] == []


# -- "Copy into" on the fields step ---------------------------------------------------------------


def test_the_fields_step_offers_copy_into_and_the_preview_opens_into_that_target(
    owner_client, cross_zoho, vault_profile
):
    source, target = cross_zoho
    globex = find_record(source.connector, "Accounts", "Globex")
    page = _page(owner_client, source.profile, "Accounts", globex).content.decode()
    assert 'id="id_record_target"' in page and target.profile.name in page
    assert vault_profile.name not in page  # another system is not offered
    response = _post(owner_client, source.profile, "Accounts", globex, target=str(target.profile.code))
    draft = _draft(owner_client, response)
    assert draft["target"] == str(target.profile.code)
    preview = owner_client.get(response["Location"]).content.decode()
    assert f'<option value="{target.profile.code}" selected>' in preview


def test_copy_into_is_kept_when_the_person_goes_to_another_step_and_back(owner_client, cross_zoho):
    source, target = cross_zoho
    globex = find_record(source.connector, "Accounts", "Globex")
    _post(owner_client, source.profile, "Accounts", globex, target=str(target.profile.code), goto="3")
    page = _page(owner_client, source.profile, "Accounts", globex).content.decode()
    assert f'<option value="{target.profile.code}" selected>' in page


def test_copy_into_another_system_or_a_profile_not_theirs_is_refused_on_the_form(
    owner_client, cross_zoho, vault_profile, other_user
):
    source, target = cross_zoho
    globex = find_record(source.connector, "Accounts", "Globex")
    response = _post(owner_client, source.profile, "Accounts", globex, target=str(vault_profile.code))
    assert (
        response.status_code == 200
        and "can only be copied into a profile of the same system" in response.content.decode()
    )
    target.profile.owner = other_user
    target.profile.save()
    response = _post(owner_client, source.profile, "Accounts", globex, target=str(target.profile.code))
    assert f"You may not use the profile {target.profile.name}" in response.content.decode()
    response = _post(owner_client, source.profile, "Accounts", globex, target="not-a-profile")
    assert "no such profile to copy into" in response.content.decode()
    assert not owner_client.session.get("copy_drafts")


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_vault_user_field_box_looks_users_up_and_refuses_an_id_of_no_user(owner_client, vault_profile, fresh_sandbox):
    """Vault's Product Manager points at user__sys: its box offers the vault's users by name or
    e-mail (not a VQL search), and an id that is no user's is refused on the fields step."""
    url = reverse("copy_record", args=[vault_profile.code, "product__v", PRODUCTS[0]])
    page = owner_client.get(url)
    body, country = page.content.decode(), page.context["form"]["f_country__c"].value()
    assert 'data-lookup="user__sys"' in body and "pick a user (by name or e-mail)" in body
    lookup = reverse("record_lookup", args=[vault_profile.code, "user__sys"])
    assert owner_client.get(lookup, {"q": "jordan"}).json()["results"] == [
        {"id": str(demo.VAULT_REP_USER_ID), "name": "Jordan Reyes"}
    ]
    form = {"mode": "clone", "f_name__v": "Cardiostat U", "f_status__v": "active__v", "f_country__c": country}
    form |= {"f_product_manager__c": "999"}
    form |= {"f_description__c": "Cardiostat demo product", "f_launch_date__c": "2019-02-02", "f_price__c": "12.5"}
    answer = owner_client.post(url, form).content.decode()
    assert "No user has the id 999: pick one of its users." in answer
