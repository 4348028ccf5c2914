"""The bulk clone pages (records/web/views/bulk.py): the upload, against a fake connector put in the
registry; then against the sandbox (real HTTP through the connectors): the object from a list, a
CSV template to fill in, per-row names through the preview to Confirm."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

pytestmark = pytest.mark.django_db

PRODUCTS = ("00P000000000001", "00P000000000002", "00P000000000003")  # Vault demo products


# -- the upload, with a fake connector ---------------------------------------------------------------


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


# -- against the sandbox ---------------------------------------------------------------------------


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


def test_a_refused_bulk_preview_links_to_the_upload(owner_client, vault_profile, fresh_sandbox):
    response = _bulk(
        owner_client, vault_profile, "product__v", "id,description__c\n" + "".join(f"{p},x\n" for p in PRODUCTS)
    )
    body = owner_client.get(response["Location"]).content.decode()
    assert "be queued.</strong>" in body
    assert f'<a href="{reverse("bulk_upload")}">Upload another file</a>' in body


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
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
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


def test_the_csv_template_leaves_out_a_name_a_spreadsheet_would_run(owner_client, vault_profile, fresh_sandbox):
    fresh_sandbox.vault.state.records["product__v"][PRODUCTS[0]]["name__v"] = "=HYPERLINK(1)"
    response = owner_client.get(reverse("bulk_template"), {"profile": str(vault_profile.code), "object": "product__v"})
    body = response.content.decode()
    assert PRODUCTS[0] in body and "=HYPERLINK" not in body


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
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


def test_bulk_preview_refuses_a_name_another_record_already_has(owner_client, vault_profile, fresh_sandbox):
    """The single form checks unique values before the preview; a CSV row renamed to an existing
    product's name passed the preview and failed at run time."""
    text = f"id,name__v\n{PRODUCTS[0]},Neurolax\n{PRODUCTS[2]},Fresh Name\n"
    response = _bulk(owner_client, vault_profile, "product__v", text)
    body = owner_client.get(response["Location"]).content.decode()
    assert "be queued.</strong>" in body
    assert "“Neurolax” is already used" in body and PRODUCTS[0] in body and "Make unique" in body
    assert "“Fresh Name” is already used" not in body


def test_bulk_preview_words_and_marks_bulk_clone_in_the_menu(owner_client, vault_profile, fresh_sandbox):
    text = f"id,name__v\n{PRODUCTS[0]},One\n00P000000099999,Two\n{PRODUCTS[2]},Three\n"
    body = owner_client.get(_bulk(owner_client, vault_profile, "product__v", text)["Location"]).content.decode()
    assert "1 of the 3 records was not found" in body
    # "3 records are cloned" is information, not a warning.
    assert '<div class="msg msg-info" role="status">3 records are cloned' in body
    assert f'href="{reverse("bulk_upload")}" aria-current="page"' in body
    assert f'href="{reverse("copy_start")}" aria-current="page"' not in body


def test_bulk_upload_shows_the_files_problems_above_the_form(owner_client, vault_profile, fresh_sandbox):
    body = _bulk(owner_client, vault_profile, "product__v", "id,units__c\nP1,many\n").content.decode()
    assert "Nothing was queued" in body
    assert body.index("Nothing was queued") < body.index('id="id_file"')
