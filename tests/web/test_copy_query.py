"""Copy by query in the wizard (records/web/views/search.py): the search page's "Copy every record
matching a filter", checked by the services before a draft is saved; the preview's count and first
rows; Back keeps the filter. Against the sandbox, plans read inline."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import override_settings
from django.urls import reverse

from records.models import CopyJob, CopyPlan

pytestmark = pytest.mark.django_db


def search_url(profile, object_name="Accounts"):
    return reverse("copy_search", args=[profile.code, object_name])


def post_query(client, profile, object_name="Accounts", **data):
    data = {"mode": "clone", "limit": "", "target": "", **data}
    return client.post(reverse("copy_query", args=[profile.code, object_name]), data)


def retail(conn):
    return [r for r in conn.search("Accounts", "", per_page=200).records if r.fields.get("Industry") == "Retail"]


def test_the_search_page_offers_the_query_form_in_each_systems_words(owner_client, zoho_profile, vault_profile):
    page = owner_client.get(search_url(zoho_profile)).content.decode()
    assert 'id="copy-query"' in page and "Zoho search criteria" in page and "(Account_Name:equals:Acme)" in page
    assert 'value="100"' in page  # the default limit (settings.COPY_QUERY_DEFAULT_LIMIT)
    page = owner_client.get(search_url(vault_profile, "product__v")).content.decode()
    assert "a VQL WHERE clause" in page


def test_a_query_copy_saves_its_filter_and_the_preview_counts_and_names_the_first(owner_client, zoho):
    _, profile, conn = zoho
    matching = retail(conn)
    response = post_query(owner_client, profile, where="(Industry:equals:Retail)", limit=str(len(matching) - 1))
    assert response.status_code == 302
    draft_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    draft = owner_client.session["copy_drafts"][draft_id]
    assert draft["source_ids"] == [] and draft["origin"] == "query"
    assert draft["options"]["source_filter"] == "(Industry:equals:Retail)"
    assert draft["options"]["source_limit"] == len(matching) - 1
    page = owner_client.get(response["Location"]).content.decode()
    assert 'id="query-match"' in page and f"{len(matching) - 1} records match" in page
    assert f"the newest {len(matching) - 1} are copied" in page
    listed = page.split('id="query-first"')[1].split("</ol>")[0]
    newest = conn.query_ids("Accounts", "(Industry:equals:Retail)", limit=len(matching) - 1)
    assert listed.count("<li>") == len(newest) and all(r.name in listed and r.id in listed for r in newest)
    assert "Confirm and queue the copy" in page


def test_back_from_a_query_preview_returns_to_the_search_page_with_the_filter_kept(owner_client, zoho):
    _, profile, _ = zoho
    response = post_query(owner_client, profile, where="(Industry:equals:Retail)", limit="3", mode="deep_copy")
    page = owner_client.get(response["Location"]).content.decode()
    back = next(part.split('"')[1] for part in page.split("<a href=")[1:] if "Back: change the filter" in part)
    back = back.replace("&amp;", "&")
    assert urlsplit(back).path == search_url(profile)
    assert parse_qs(urlsplit(back).query)["where"] == ["(Industry:equals:Retail)"]
    search = owner_client.get(back).content.decode()
    assert 'value="(Industry:equals:Retail)"' in search and 'value="3"' in search
    assert re.search(r'value="deep_copy"[^>]*checked', search)


@pytest.mark.parametrize(
    ("where", "limit", "words"),
    [
        ("(Nope:equals:1)", "", "The filter can&#x27;t be used"),
        ("(Account_Name:equals:No Such Account Anywhere)", "", "No Accounts record matches"),
        ("(Industry:equals:Retail)", "1001", "The limit must be between 1 and 1,000"),
    ],
)
def test_a_bad_query_is_refused_at_the_form_and_nothing_is_saved(owner_client, zoho, where, limit, words):
    _, profile, _ = zoho
    response = post_query(owner_client, profile, where=where, limit=limit)
    page = response.content.decode()
    assert response.status_code == 200 and 'id="copy-query-error"' in page and words in page
    assert f'value="{where}"' in page  # what was typed stays in the box
    assert not owner_client.session.get("copy_drafts")
    assert not CopyPlan.objects.exists() and not CopyJob.objects.exists()


@override_settings(COPY_QUERY_MAX_LIMIT=5)
def test_the_limits_maximum_is_the_setting(owner_client, zoho):
    _, profile, _ = zoho
    page = post_query(owner_client, profile, where="(Industry:equals:Retail)", limit="6").content.decode()
    assert "between 1 and 5 records" in page and not owner_client.session.get("copy_drafts")


def test_a_query_copy_into_another_org_keeps_its_target(owner_client, cross_zoho, vault_profile):
    source, target = cross_zoho
    page = owner_client.get(search_url(source.profile)).content.decode()
    assert target.profile.name in page and vault_profile.name not in page  # same system only
    response = post_query(
        owner_client, source.profile, where="(Industry:equals:Retail)", target=str(target.profile.code)
    )
    draft = owner_client.session["copy_drafts"][response["Location"].rstrip("/").rsplit("/", 1)[-1]]
    assert draft["target"] == str(target.profile.code)


def test_a_query_copy_into_another_system_is_refused(owner_client, zoho, vault_profile):
    _, profile, _ = zoho
    page = post_query(
        owner_client, profile, where="(Industry:equals:Retail)", target=str(vault_profile.code)
    ).content.decode()
    assert "can only be copied into a profile of the same system" in page
    assert not owner_client.session.get("copy_drafts")


def test_the_query_form_is_post_only_and_for_the_profiles_users(owner_client, other_user, make_profile, zoho):
    theirs = make_profile(name="Theirs", user=other_user, system="zoho")
    assert owner_client.get(reverse("copy_query", args=[zoho.profile.code, "Accounts"])).status_code == 405
    assert post_query(owner_client, theirs, where="(Industry:equals:Retail)").status_code == 404


def test_a_vault_query_copy_reaches_its_preview_and_a_bad_vql_is_refused(owner_client, vault):
    _, profile, _ = vault
    response = post_query(owner_client, profile, "product__v", where="status__v = 'active__v'", limit="2")
    assert response.status_code == 302
    page = owner_client.get(response["Location"]).content.decode()
    assert 'id="query-match"' in page and "2 records match" in page
    page = post_query(owner_client, profile, "product__v", where="nope__c = 1").content.decode()
    assert "The filter can&#x27;t be used" in page and 'id="copy-query-error"' in page
