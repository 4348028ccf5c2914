"""The pages' widget scripts say when they are bound (data-ready on the element each one drives),
so browser tests wait for that signal instead of for a time; the CSP watcher's own wait is the
page's count of violations."""

import pytest

from tests.e2e.helpers import ready, start_copy

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_widget_scripts_mark_themselves_ready(parts, new_page, login, live_server):
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/profiles/add/")
    ready(page, "#profile-form")
    page.goto(f"{live_server.url}/bulk/")
    ready(page, "#bulk-choose")
    page.goto(f"{live_server.url}/copy/{parts['zoho_profile'].code}/Accounts/5725767000000200023/")
    ready(page, "#overrides-form")
    ready(page, "#id_f_Owner")  # the name box lookup.js puts in the id's place
    assert page.locator("#id_f_Owner").get_attribute("type") == "text"
    start_copy(page, live_server, parts["zoho_profile"], "Accounts", "Globex", "deep_copy")
    ready(page, "#choice-changes")
    ready(page, "#plan-objects")
