"""A template's object by its label ("Clone of Products from Sandbox Vault"): kept with each version
when it is made or edited, shown on the pages, in the API's list and by `template show` without a
metadata read per template; a version saved without one shows the API name."""

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from records.copy_templates import services
from records.models import CopyJob
from tests.fixtures.api import bearer
from tests.fixtures.engine import copy_now, copy_request

pytestmark = pytest.mark.django_db


def shown_by_cli(*args):
    out = io.StringIO()
    call_command("template", *args, stdout=out)
    return out.getvalue()


def test_a_template_saved_from_a_job_names_its_object_by_the_plans_label(neurolax, owner, owner_client):
    sb, profile, conn, src = neurolax
    job = copy_now(profile, owner, "product__v", [src], "clone", overrides={"name__v": "{name__v} B"})
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    before = len(sb.log("vault"))
    template = services.save_from_job(job=job, name="Products B", user=owner)
    assert len(sb.log("vault")) == before  # the job's plan had the label: nothing read to save it
    assert services.latest_version(template).object_label == "Products"

    listed = owner_client.get(reverse("template_list")).content.decode()
    page = owner_client.get(reverse("template_detail", args=[template.code])).content.decode()
    assert len(sb.log("vault")) == before  # nor to show it
    assert "Clone of Products from Sandbox Vault" in listed
    assert "Clone of Products from Sandbox Vault" in page and "product__v from" not in page


def object_lists(sb):
    return sum(e.path.endswith("/metadata/vobjects") for e in sb.log("vault"))


def test_a_template_saved_from_a_request_reads_the_label_once_and_an_edit_keeps_it(vault, owner):
    sb, profile, conn = vault
    request = copy_request(profile, "product__v", ["x"], "clone")
    template = services.save_from_request(request=request, name="Products", user=owner)
    assert object_lists(sb) == 1
    edited = services.edit(template=template, user=owner, description="again", request=request)
    assert (edited.number, edited.object_label) == (2, "Products")
    assert object_lists(sb) == 1  # the edit kept the label it had


def test_an_older_version_without_a_label_shows_the_api_name_and_an_edit_adds_it(vault, owner, client, make_token):
    sb, profile, conn = vault
    request = copy_request(profile, "product__v", ["x"], "clone")
    template = services.save_from_request(request=request, name="Old", user=owner, object_label="")
    assert "Clone of product__v from Sandbox Vault" in shown_by_cli("list", "--user", owner.username)
    token, secret = make_token()
    (listed,) = client.get("/api/v1/templates/", **bearer(secret)).json()
    assert (listed["object_name"], listed["object_label"]) == ("product__v", "product__v")

    services.edit(template=template, user=owner, request=request)
    (listed,) = client.get("/api/v1/templates/", **bearer(secret)).json()
    assert listed["object_label"] == "Products"
    shown = json.loads(shown_by_cli("show", "Old", "--user", owner.username, "--json"))
    assert shown["summary"] == "Clone of Products from Sandbox Vault"
    assert [v["object_label"] for v in shown["versions"]] == ["product__v", "Products"]
