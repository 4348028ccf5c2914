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
    assert "can&#x27;t be queued" not in body and "Confirm and queue the copy" in body
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

    config = ProfileConfig(system="vault", name="x", base_url=fresh_sandbox.vault_url, accounts_url="",
                           api_version=demo.VAULT_API_VERSION, username=demo.VAULT_USERNAME,
                           secret=demo.VAULT_PASSWORD, refresh_token="", concurrency=2, allow_loopback=True)
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

    config = ProfileConfig(system="zoho", name="x", base_url=fresh_sandbox.zoho_url, accounts_url=fresh_sandbox.zoho_url,
                           api_version="", username=demo.ZOHO_CLIENT_ID, secret=demo.ZOHO_CLIENT_SECRET,
                           refresh_token=demo.ZOHO_REFRESH_TOKEN, concurrency=2, allow_loopback=True)
    account = next(iter(fresh_sandbox.zoho.state.records["Accounts"]))
    page = requests.get(connector_class("zoho")(config, None).record_url("Accounts", account), timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "<h1>Acme Corp</h1>" in page.text and "ACC-0001" in page.text
