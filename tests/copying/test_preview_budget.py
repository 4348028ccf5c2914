"""The preview's spend against the API budget the connector last saw, against the sandbox over HTTP
(its credits and burst-limit knobs)."""

import pytest

from records.connectors.budgets import CREDIT_RESERVE
from records.copying.preview import copy_preview
from tests.fixtures.engine import copy_request

pytestmark = pytest.mark.django_db


def test_a_zoho_preview_states_its_credits_against_those_left_today(globex):
    sb, profile, _, src = globex
    # Past half (the answers carry X-API-CREDITS-REMAINING) yet above the connector's reserve, below
    # which it spaces its calls out: the preview is read at full speed.
    sb.zoho.settings = sb.zoho.settings.updated(daily_credits=2 * CREDIT_RESERVE + 2000)
    sb.zoho.credits_used = CREDIT_RESERVE + 1000
    plan = copy_preview(request=copy_request(profile, "Accounts", [src], "deep_copy", overrides={}))
    left = sb.zoho.settings.daily_credits - sb.zoho.credits_used
    # What the last answer carrying the header said (an answer without a body, 204, carries none).
    remaining = plan.budget["remaining"]
    assert 0 <= remaining - left <= 2 and plan.budget["calls"] == plan.write_calls
    assert plan.budget["spend"] >= plan.write_calls and not plan.budget["over"]
    assert plan.budget["line"].startswith(f"About {plan.write_calls} write calls")
    assert f"{remaining:,} Zoho API credits left today" in plan.budget["line"]
    assert not any("API budget" in w for w in plan.warnings)


def test_a_vault_preview_states_its_calls_against_the_burst_window(neurolax):
    sb, profile, _, src = neurolax
    plan = copy_preview(request=copy_request(profile, "product__v", [src], "clone", overrides={"name__v": "B"}))
    left = sb.vault.settings.burst_limit - sb.vault.state.burst_count
    assert plan.budget["calls"] == 1 and plan.budget["remaining"] == left and not plan.budget["over"]
    assert plan.budget["line"].startswith(f"About 1 write call; {left:,} calls left in this 5-minute window")
