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
