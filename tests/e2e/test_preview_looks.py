"""The preview and the fields step as they look in a browser: the TOTAL row grey end to end, an
option's label not bold like a field's name, the choices' Value box in the page's font, and the
note that a left-out branch is built level by level, live."""

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import open_record, start_copy

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _style(page, selector, prop):
    return page.locator(selector).first.evaluate(f"el => getComputedStyle(el).{prop}")


def test_preview_and_form_looks(parts, new_page, login, live_server):
    page = login(new_page(), "alice", "alice-pass-123")
    open_record(page, live_server, parts["vault_profile"], "product__v", "Cardiostat")
    # The mode's radios: options, not field names.
    assert _style(page, "label:has(> input[name=mode])", "fontWeight") == "400"
    assert _style(page, "label[for=id_mode], #overrides-form label:not(:has(input))", "fontWeight") == "600"
    start_copy(
        page, live_server, parts["vault_profile"], "product__v", "Cardiostat", "deep_copy", {"name__v": "Cardio L"}
    )
    total_row = "#plan-objects tfoot tr"
    assert _style(page, f"{total_row} th", "backgroundColor") == _style(page, f"{total_row} td", "backgroundColor")
    if page.locator("#copy-choices[open]").count() == 0:
        page.click("#copy-choices summary")
    assert _style(page, "input[name=ch-0-value]", "fontSize") == _style(page, "select[name=ch-0-field]", "fontSize")
    assert _style(page, "label:has(> input[name=include])", "fontWeight") == "400"
    note = page.locator("#engine-needed")
    expect(note).to_be_hidden()
    page.uncheck("input[name=include][value=packaging__c]")
    expect(note).to_be_visible()
    expect(note).to_contain_text("Ticked and locked")
    page.check("input[name=include][value=packaging__c]")
    expect(note).to_be_hidden()
