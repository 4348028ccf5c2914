"""The new-copy wizard and bulk clone pages, against a fake connector put in the registry."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from records.connectors import base
from records.web.bulk_csv import parse_bulk_csv
from tests.fixtures.web import FIELDS

pytestmark = pytest.mark.django_db


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
    fake_connector.fail_with = base.AuthFailed("Username or password is incorrect", error_type="INVALID_SESSION_ID")
    body = owner_client.get(reverse("copy_objects", args=[profile.code])).content.decode()
    assert "refused the credentials" in body and "INVALID_SESSION_ID" in body
    assert "Traceback" not in body and "s3cret-value" not in body
    fake_connector.fail_with = base.Unavailable("Connection refused")
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


# -- Bulk clone ---------------------------------------------------------------------------------


def test_parse_bulk_csv_accepts_bom_and_overrides():
    text = "\ufeffid,name__v,external_id__v,launch_date__c\nP1,Copy one,#clear,2025-01-31\nP2,,,\n"
    parsed = parse_bulk_csv(text, FIELDS)
    assert parsed.ok
    assert [r.source_id for r in parsed.rows] == ["P1", "P2"]
    assert parsed.rows[0].overrides == {"name__v": "Copy one", "external_id__v": None, "launch_date__c": "2025-01-31"}
    assert parsed.rows[1].overrides == {}


@pytest.mark.parametrize(
    "text, message",
    [
        ("name__v\nX\n", "exactly one column named 'id'"),
        ("id,bogus__c\nP1,x\n", "Unknown column 'bogus__c'"),
        ("id,photo\nP1,x\n", "can't be set on a copy"),
        ("id\n", "no rows"),
        ("", "empty"),
    ],
)
def test_parse_bulk_csv_file_errors(text, message):
    parsed = parse_bulk_csv(text, FIELDS)
    assert not parsed.ok
    assert message in " ".join(parsed.errors)


def test_parse_bulk_csv_row_errors():
    text = "id,name__v,units__c,status__v,launch_date__c\nP1,,x,active__v,2025-01-01\nP1,A,1,nope,2025-13-01\n,B,1,,\nP4,#clear,,,\n"
    parsed = parse_bulk_csv(text, FIELDS)
    errors = {r.line: " ".join(r.errors) for r in parsed.row_errors}
    assert "Units" in errors[2]
    assert "Duplicate id P1" in errors[3] and "Status" in errors[3] and "Launch date" in errors[3]
    assert "id is empty" in errors[4]
    assert "required and can't be cleared" in errors[5]


def test_parse_bulk_csv_limits_rows():
    text = "id\n" + "".join(f"P{i}\n" for i in range(11))
    assert "more than 10 rows" in " ".join(parse_bulk_csv(text, FIELDS, max_rows=10).errors)


def test_bulk_upload_shows_row_errors_and_queues_nothing(owner_client, make_profile, fake_connector):
    from records.models import CopyJob

    profile = make_profile()
    upload = SimpleUploadedFile("ids.csv", b"id,units__c\nP1,many\nP2,2\n", content_type="text/csv")
    response = owner_client.post(
        reverse("bulk_upload"), {"profile": str(profile.code), "object_name": "product__v", "file": upload}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Nothing was queued" in body and "Enter a whole number" in body
    assert CopyJob.objects.count() == 0


def test_bulk_upload_refuses_non_utf8(owner_client, make_profile, fake_connector):
    profile = make_profile()
    upload = SimpleUploadedFile("ids.csv", "id,name__v\nP1,Café\n".encode("latin-1"), content_type="text/csv")
    response = owner_client.post(
        reverse("bulk_upload"), {"profile": str(profile.code), "object_name": "product__v", "file": upload}
    )
    assert "isn&#x27;t UTF-8" in response.content.decode()


def test_bulk_upload_valid_file_goes_to_preview(owner_client, make_profile, fake_connector):
    profile = make_profile()
    upload = SimpleUploadedFile("ids.csv", b"\xef\xbb\xbfid,name__v\nP1,One\nP2,\n", content_type="text/csv")
    response = owner_client.post(
        reverse("bulk_upload"), {"profile": str(profile.code), "object_name": "product__v", "file": upload}
    )
    assert response.status_code == 302 and "/copy/preview/" in response["Location"]
    (draft,) = owner_client.session["copy_drafts"].values()
    assert draft["source_ids"] == ["P1", "P2"] and draft["row_overrides"] == {"P1": {"name__v": "One"}}


def test_bulk_upload_refuses_other_users_profile(owner_client, other_user, make_profile, fake_connector):
    theirs = make_profile(name="Theirs", user=other_user)
    upload = SimpleUploadedFile("ids.csv", b"id\nP1\n", content_type="text/csv")
    response = owner_client.post(
        reverse("bulk_upload"), {"profile": str(theirs.code), "object_name": "product__v", "file": upload}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert "copy_drafts" not in owner_client.session


# -- Confirm: its own POST-only view ----------------------------------------------------------------


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
