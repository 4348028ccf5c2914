"""An accessibility check (axe-core, tests/e2e/vendor) of every page in a real browser, wide and
390 px wide: no serious or critical violation."""

import json

import pytest

from tests.e2e.helpers import PRODUCT, axe

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _awaiting_approval(cross, owner):
    """A Zoho deep copy into a protected org, awaiting approval: its page has the approval box with
    the requester's cross tables (schema differences, users)."""
    from records.copying.job_create import copy_job_create
    from records.copying.options import CopyOptions
    from tests.fixtures.engine import copy_request
    from tests.fixtures.sandbox import find_record

    source, target = cross
    target.profile.protected = True
    target.profile.save(update_fields=["protected"])
    globex = find_record(source.connector, "Accounts", "Globex")
    request = copy_request(source.profile, "Accounts", [globex], "deep_copy", options=CopyOptions(existing="create"))
    request = type(request)(**{**request.__dict__, "target": target.profile})
    job = copy_job_create(request=request, user=owner, connector=source.connector)
    assert job.status == "awaiting_approval" and job.plan["cross"]["schema"]
    return job


def test_every_page_passes_axe(parts, cross_zoho, browser, live_server, owner, screenshot):
    from records.api.tokens import create_token
    from records.copy_templates.services import save_from_request
    from records.copying.job_create import copy_job_create
    from tests.fixtures.engine import copy_request

    job = copy_job_create(
        request=copy_request(
            parts["zoho_profile"],
            "Accounts",
            [next(iter(parts["fresh_sandbox"].zoho.state.records["Accounts"]))],
            "deep_copy",
        ),
        user=owner,
        enqueue=False,
    )
    create_token(user=owner, name="nightly build", scope="read")  # My settings lists it
    template = save_from_request(
        request=copy_request(parts["vault_profile"], "product__v", [PRODUCT], "clone", overrides={"name__v": "B"}),
        name="Product B",
        user=owner,
    )
    awaiting = _awaiting_approval(cross_zoho, owner)
    # bypass_csp: axe is injected by the test, not served by the app.
    context = browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/accounts/login/")
        found = {"login": axe(page)}
        page.fill("#id_username", "alice")
        page.fill("#id_password", "alice-pass-123")
        page.click("button[type=submit]")
        page.wait_for_url(live_server.url + "/")
        vault = parts["vault_profile"].code
        pages = {
            "home": "/",
            "copy-start": "/copy/",
            "objects": f"/copy/{vault}/",
            "search": f"/copy/{vault}/product__v/",  # with the copy-by-query form
            "record": f"/copy/{vault}/product__v/{PRODUCT}/",
            "jobs": "/jobs/",
            "job": f"/jobs/{job.code}/",
            "bulk": f"/bulk/?profile={vault}&object=product__v",
            "profiles": "/profiles/",
            "profile-add": "/profiles/add/",
            "profile-edit": f"/profiles/{vault}/edit/",  # with its lineage fieldset
            "zoho-record": f"/copy/{parts['zoho_profile'].code}/Accounts/5725767000000200023/",  # the Owner lookup
            "copy-keys": f"/profiles/{vault}/copy-keys/",
            "my-settings": "/settings/",  # with its API tokens section
            "templates": "/templates/",
            "template": f"/templates/{template.code}/",
            "template-edit": f"/templates/{template.code}/edit/",
            "approval": f"/jobs/{awaiting.code}/",  # the approval box with the cross tables
            "not-found": "/no/such/page/",
        }
        for name, path in pages.items():
            page.goto(live_server.url + path)
            found[name] = axe(page)
        page.set_viewport_size({"width": 390, "height": 844})  # and on a phone
        for name, path in pages.items():
            page.goto(live_server.url + path)
            found[f"{name} at 390 px"] = axe(page)
        page.set_viewport_size({"width": 1280, "height": 860})
        page.goto(live_server.url + f"/copy/{vault}/product__v/{PRODUCT}/")
        page.click("text=Preview the copy")
        page.wait_for_selector("h1:has-text('Preview')")
        found["preview"] = axe(page)
        bad = {name: v for name, v in found.items() if v}
        assert not bad, json.dumps(bad, indent=1)
        # The check itself can fail: an image without a text alternative is a critical violation.
        page.set_content('<!doctype html><html lang="en"><title>t</title><main><img src="x.png"></main></html>')
        assert any(v["id"] == "image-alt" for v in axe(page))
    finally:
        context.close()
