"""A template's schedule in a real browser: a bad cron expression refused with its message, a
good one shown with its next five times in its time zone, then turned off."""

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import PRODUCT

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_schedule_a_template_on_its_page(parts, new_page, login, live_server, owner, redis_url):
    from records.copy_templates import services
    from tests.fixtures.engine import copy_request

    request = copy_request(parts["vault_profile"], "product__v", [PRODUCT], "clone")
    template = services.save_from_request(request=request, name="Weekday B", user=owner)
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/templates/{template.code}/")

    page.fill("#id_cron", "30 6 * * 8")
    page.fill("#id_ids", PRODUCT)
    page.click("text=Add the schedule")
    expect(page.locator("body")).to_contain_text("Invalid cron expression '30 6 * * 8'")
    expect(page.locator("#schedules")).to_contain_text("No schedules.")

    page.fill("#id_cron", "30 6 * * 1-5")
    page.fill("#id_ids", PRODUCT)
    page.fill("#id_time_zone", "Europe/Paris")
    page.click("text=Add the schedule")
    expect(page.locator("body")).to_contain_text("Scheduled Weekday B at 30 6 * * 1-5 (Europe/Paris).")
    times = page.locator("#schedules .next-times li")
    expect(times).to_have_count(5)
    for text in times.all_inner_texts():
        assert "06:30:00 CE" in text and not text.startswith(("Sat", "Sun"))

    page.locator("#schedules").get_by_role("button", name="Turn off").click()
    expect(page.locator("#schedules h3").first).to_contain_text("off")
    expect(times).to_have_count(0)
