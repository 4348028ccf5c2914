"""The profile pages (records/profiles/views.py): the list, add, edit, delete and test; whose
profiles each user sees; names unique per owner, the API version checked on save, each system's
fields marked on the form, "just now"."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from records.models import ConnectionProfile
from tests.fixtures.web import vault_form_data

pytestmark = pytest.mark.django_db


def test_list_shows_only_my_profiles(owner_client, other_user, make_profile):
    make_profile(name="Mine")
    make_profile(name="Theirs", user=other_user)
    body = owner_client.get(reverse("profile_list")).content.decode()
    assert "Mine" in body and "Theirs" not in body


def test_add_profile(owner_client, owner):
    response = owner_client.post(reverse("profile_add"), vault_form_data())
    assert response.status_code == 302
    profile = ConnectionProfile.objects.get(name="My Vault")
    assert profile.owner == owner and profile.secret == "top-secret-pw"


def test_the_add_form_offers_the_newest_vault_api_version_as_a_required_default(owner_client):
    import re

    body = owner_client.get(reverse("profile_add")).content.decode()
    version = re.search(r'<input[^>]*name="api_version"[^>]*>', body).group(0)
    assert 'value="v26.3"' in version
    label = re.search(r'<label for="id_api_version">(.*?)</label>', body, re.S).group(1)
    assert "*" in label  # marked required
    assert "v26.3" in body.split('id="id_api_version_helptext"')[1][:200]
    answer = owner_client.post(reverse("profile_add"), vault_form_data(api_version="v26.3"))
    assert answer.status_code == 302 and ConnectionProfile.objects.get(name="My Vault").api_version == "v26.3"


def test_a_vault_profile_needs_its_api_version_and_zoho_needs_none(owner_client):
    answer = owner_client.post(reverse("profile_add"), vault_form_data(api_version=""))
    assert answer.status_code == 200 and not ConnectionProfile.objects.exists()
    zoho = vault_form_data(
        name="My Zoho",
        system="zoho",
        base_url="https://www.zohoapis.eu",
        accounts_url="https://accounts.zoho.eu",
        refresh_token="1000.rt",
    )
    zoho.pop("api_version")  # the hidden Vault-only field may not be sent at all
    assert owner_client.post(reverse("profile_add"), zoho).status_code == 302
    assert ConnectionProfile.objects.get(name="My Zoho").api_version == ""


def test_add_requires_a_secret(owner_client):
    response = owner_client.post(reverse("profile_add"), vault_form_data(secret=""))
    assert response.status_code == 200
    assert not ConnectionProfile.objects.filter(name="My Vault").exists()


def test_edit_never_shows_the_secret_and_blank_keeps_it(owner_client, make_profile):
    profile = make_profile(name="Mine")
    body = owner_client.get(reverse("profile_edit", args=[profile.code])).content.decode()
    assert "s3cret-value" not in body
    response = owner_client.post(
        reverse("profile_edit", args=[profile.code]),
        vault_form_data(name="Renamed", secret="", base_url=profile.base_url),
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.name == "Renamed" and profile.secret == "s3cret-value"


def test_edit_replaces_the_secret(owner_client, make_profile):
    profile = make_profile(name="Mine")
    owner_client.post(reverse("profile_edit", args=[profile.code]), vault_form_data(name="Mine", secret="new-secret"))
    profile.refresh_from_db()
    assert profile.secret == "new-secret"


def test_it_refuses_other_users_profile(owner_client, other_user, make_profile):
    theirs = make_profile(name="Theirs", user=other_user)
    assert owner_client.get(reverse("profile_edit", args=[theirs.code])).status_code == 404
    assert owner_client.post(reverse("profile_edit", args=[theirs.code]), vault_form_data()).status_code == 404
    assert owner_client.post(reverse("profile_delete", args=[theirs.code])).status_code == 404
    assert owner_client.post(reverse("profile_test", args=[theirs.code])).status_code == 404
    assert ConnectionProfile.objects.filter(pk=theirs.pk, name="Theirs").exists()


def test_shared_user_can_use_but_not_edit(client, owner, other_user, make_profile):
    profile = make_profile(name="Shared")
    profile.shared_with_users.add(other_user)
    client.force_login(other_user)
    assert "Shared" in client.get(reverse("profile_list")).content.decode()
    assert client.get(reverse("profile_edit", args=[profile.code])).status_code == 404


def test_delete_profile(owner_client, make_profile):
    profile = make_profile(name="Mine")
    response = owner_client.post(reverse("profile_delete", args=[profile.code]))
    assert response.status_code == 302
    assert not ConnectionProfile.objects.filter(pk=profile.pk).exists()


def test_delete_profile_with_jobs_is_refused_clearly(owner_client, make_job):
    job = make_job()
    response = owner_client.post(reverse("profile_delete", args=[job.profile.code]), follow=True)
    assert ConnectionProfile.objects.filter(pk=job.profile.pk).exists()
    assert "can&#x27;t be deleted" in response.content.decode()


def test_profile_with_jobs_offers_no_delete(owner_client, make_job, make_profile):
    job = make_job()
    make_profile(name="Unused")
    page = owner_client.get(reverse("profile_delete", args=[job.profile.code])).content.decode()
    assert "Yes, delete the profile" not in page
    assert "1 copy job" in page and "can&#x27;t be deleted" in page
    listing = owner_client.get(reverse("profile_list")).content.decode()
    assert reverse("profile_delete", args=[job.profile.code]) not in listing
    assert listing.count("/delete/") == 1  # the unused profile still offers it


def test_test_connection_needs_post_with_csrf(owner, make_profile):
    profile = make_profile(name="Mine")
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.get(reverse("profile_test", args=[profile.code])).status_code == 405
    assert client.post(reverse("profile_test", args=[profile.code])).status_code == 403


def test_test_connection_reports_failure_without_secrets(owner_client, make_profile):
    # Nothing listens on port 9 of loopback: the connection fails.
    profile = make_profile(name="Mine", base_url="http://127.0.0.1:9")
    response = owner_client.post(reverse("profile_test", args=[profile.code]), follow=True)
    body = response.content.decode()
    assert "failed" in body
    assert "s3cret-value" not in body and "Traceback" not in body


def test_profile_names_are_unique_per_owner_only(owner_client, other_user, make_profile):
    make_profile(name="Shared name", user=other_user)
    assert owner_client.post(reverse("profile_add"), vault_form_data(name="Shared name")).status_code == 302
    again = owner_client.post(reverse("profile_add"), vault_form_data(name="shared NAME"))
    assert again.status_code == 200 and "You already have a profile with this name" in again.content.decode()
    assert ConnectionProfile.objects.filter(name__iexact="shared name").count() == 2


def test_editing_keeps_its_own_name(owner_client, make_profile):
    profile = make_profile(name="Keep me")
    response = owner_client.post(
        reverse("profile_edit", args=[profile.code]),
        vault_form_data(name="Keep me", secret="", base_url=profile.base_url),
    )
    assert response.status_code == 302


@pytest.mark.parametrize("version", ["banana", "25.2", "v25", "v25.2.1", ""])
def test_a_vault_api_version_is_checked_on_save(owner_client, version):
    response = owner_client.post(reverse("profile_add"), vault_form_data(api_version=version))
    assert response.status_code == 200 and "e.g. v25.2" in response.content.decode()
    assert not ConnectionProfile.objects.exists()


def test_the_form_marks_each_systems_fields(owner_client):
    body = owner_client.get(reverse("profile_add")).content.decode()
    # Zoho: accounts URL, concurrency, refresh token, its credentials note; Vault: API version, its note.
    assert body.count('data-for-system="zoho"') == 4 and body.count('data-for-system="vault"') == 2
    assert 'data-label-vault="User name"' in body and 'data-label-zoho="Client secret"' in body
    assert "records/profile_form.js" in body and "<script>" not in body


def test_just_now_instead_of_zero_minutes_ago(owner_client, make_profile):
    profile = make_profile(name="Tested")
    ConnectionProfile.objects.filter(pk=profile.pk).update(last_tested_at=timezone.now(), last_test_ok=True)
    body = owner_client.get(reverse("profile_list")).content.decode()
    assert "just now" in body and "0\xa0minutes ago" not in body and "0 minutes ago" not in body
    ConnectionProfile.objects.filter(pk=profile.pk).update(last_tested_at=timezone.now() - dt.timedelta(minutes=5))
    assert "5\xa0minutes ago" in owner_client.get(reverse("profile_list")).content.decode()


def _input(body, name):
    import re

    return re.search(rf'<input[^>]*name="{name}"[^>]*>', body).group(0)


def test_a_zoho_profile_switched_to_vault_offers_a_marked_api_version_with_its_default(owner_client, make_profile):
    import re

    zoho = make_profile(name="Z", system="zoho", api_version="")
    for body in (
        owner_client.get(reverse("profile_edit", args=[zoho.code])).content.decode(),
        # A Zoho form sent back with an error: the person may switch it to Vault next.
        owner_client.post(reverse("profile_add"), vault_form_data(system="zoho", api_version="")).content.decode(),
    ):
        assert 'value="v26.3"' in _input(body, "api_version") or 'data-default="v26.3"' in _input(body, "api_version")
        label = re.search(r'<label for="id_api_version">(.*?)</label>', body, re.S).group(1)
        assert "*" in label


def test_the_form_keeps_the_typed_password_after_an_error(owner_client):
    body = owner_client.post(reverse("profile_add"), vault_form_data(name="")).content.decode()
    assert 'value="top-secret-pw"' in _input(body, "secret")


def test_a_url_that_is_not_https_is_named_at_its_field(owner_client):
    body = owner_client.post(reverse("profile_add"), vault_form_data(base_url="http://myvault.veevavault.com"))
    body = body.content.decode()
    assert "Only https:// URLs are allowed." in body.split('id="id_base_url"')[1].split("</div>")[0]
    assert 'class="msg msg-error"' not in body


def test_the_secrets_set_time_reads_with_its_zone_and_one_full_stop(owner_client, make_profile):
    profile = make_profile(name="Timed")
    ConnectionProfile.objects.filter(pk=profile.pk).update(secret_set_at=dt.datetime(2026, 1, 5, 1, 11, tzinfo=dt.UTC))
    body = owner_client.get(reverse("profile_edit", args=[profile.code])).content.decode()
    assert "Set on 2026-01-05 01:11 UTC. Leave blank to keep it." in body


# -- Lineage defaults: a fieldset of the edit page, checked against the profile's metadata ---------


@pytest.mark.django_db(transaction=True)
def test_lineage_defaults_are_set_on_the_profile_page_by_name_or_label(owner_client, vault_profile, fresh_sandbox):
    edit = reverse("profile_edit", args=[vault_profile.code])
    page = owner_client.get(edit).content.decode()
    assert "<legend>Lineage stamps</legend>" in page and 'name="lineage_lines"' in page
    url = reverse("profile_lineage", args=[vault_profile.code])
    response = owner_client.post(url, {"lineage_lines": "\n  Products : Description\n\n"})
    assert response.status_code == 302, re.findall(r"<li>[^<]*", response.content.decode())
    assert response["Location"] == edit
    vault_profile.refresh_from_db()
    assert vault_profile.lineage_fields == {"product__v": "description__c"}
    page = owner_client.get(edit).content.decode()
    assert ">\nproduct__v: description__c</textarea>" in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("product__v", "Line 1: give the object, a colon and its text field, e.g. “Products: Description”."),
        ("Gadgets: Description", "Line 1: this Vault has no object “Gadgets”."),
        ("Products: Colour", "Line 1: Product has no field “Colour”."),
        ("Products: Price", "Line 1: Product’s “Price” is no editable text field; the lineage stamp needs one."),
        ("formulation__c: strength__c", "Line 1: Formulation: Strength holds 50 characters; a lineage stamp needs 60."),
        ("Products: Description\nproduct__v: name__v", "Line 2: Product has a default already (line 1)."),
    ],
)
def test_lineage_defaults_refused_in_plain_words(owner_client, vault_profile, fresh_sandbox, typed, message):
    response = owner_client.post(reverse("profile_lineage", args=[vault_profile.code]), {"lineage_lines": typed})
    assert response.status_code == 200
    assert message in response.content.decode()
    vault_profile.refresh_from_db()
    assert vault_profile.lineage_fields == {}
