"""Each level's read and write path on the plan, as the connector's rule chose it, and its line on
the preview (against the sandbox over HTTP)."""

import pytest

from records.copying.preview import copy_preview
from records.copying.tree import Plan
from tests.fixtures.engine import copy_request

pytestmark = pytest.mark.django_db


def test_the_planner_takes_the_ordinary_path_for_the_small_levels_of_an_account(globex):
    sb, profile, _, src = globex
    plan = copy_preview(request=copy_request(profile, "Accounts", [src], "deep_copy", overrides={}))
    assert plan.levels and {lv["object"] for lv in plan.levels} == {o.object_name for o in plan.objects if o.depth}
    for level in plan.levels:
        assert level["read"]["path"] == level["write"]["path"] == "api"
        assert level["read"]["api_credits"] < level["read"]["bulk_credits"]
        assert level["line"].startswith(f"{level['object']} (level {level['depth']}, {level['count']:,} records")
        assert "read by COQL reads" in level["line"] and "written by inserts of 100" in level["line"]
    kept = Plan.from_dict(plan.as_dict(), object_name="Accounts", mode="deep_copy", source_ids=[src])
    assert kept.levels == plan.levels


def test_a_system_with_one_way_has_no_level_paths(neurolax):
    sb, profile, _, src = neurolax
    plan = copy_preview(request=copy_request(profile, "product__v", [src], "deep_copy", overrides={}))
    assert plan.objects and plan.levels == []


def test_the_preview_shows_one_line_a_level(globex):
    from django.template.loader import render_to_string

    sb, profile, _, src = globex
    plan = copy_preview(request=copy_request(profile, "Accounts", [src], "deep_copy", overrides={}))
    html = render_to_string("records/_copy_choices.html", {"plan": plan, "draft_id": "x" * 32})
    assert html.count('data-read="api"') == len(plan.levels) and plan.levels[0]["line"] in html.replace("&#x27;", "'")
