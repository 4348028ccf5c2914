"""Single sign-on in the browser: our login page's button, the real OpenID Provider's login and
consent pages (tests/fixtures/oidc.py), back to our home page with the groups of the claim; then
Log out, confirmed at the provider, back to our login page."""

import pytest
from django.contrib.auth.models import Group

from tests.fixtures.oidc import start_provider, use_provider

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_provider(live_server, tmp_path, settings):
    provider = start_provider(tmp_path, live_server.url)
    use_provider(settings, provider)
    yield provider
    provider.stop()


def test_sso_login_and_logout_in_the_browser(new_page, live_server, browser_provider, django_user_model):
    Group.objects.create(name="copier-users")
    page = new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.click("text=Log in with single sign-on")
    page.wait_for_url(browser_provider.issuer + "/interaction/**")
    page.fill("input[name=login]", "u-carol")
    page.fill("input[name=password]", "any-password")
    page.click("button[type=submit]")
    page.click("button:has-text('Continue')")  # the provider's consent page
    page.wait_for_url(live_server.url + "/")
    carol = django_user_model.objects.get(username="u-carol")
    assert carol.is_staff and sorted(carol.groups.values_list("name", flat=True)) == ["approve_copy", "copier-users"]
    page.click("button:has-text('Log out')")
    page.click("button:has-text('Yes, sign me out')")  # the provider's logout page
    page.wait_for_url(live_server.url + "/accounts/login/")
    page.goto(live_server.url + "/")
    assert page.url.startswith(live_server.url + "/accounts/login/")  # logged out here too
