"""The preview's live recount: the cost and limit rule on plan.cost, which the preview's JS applies
when a branch is unticked, gives what the server plans once that branch is left out. Against the
sandbox over HTTP."""

import pytest

from records.connectors import connector_for
from records.copying import cost
from records.copying.options import CopyOptions
from records.copying.preview import _write_calls_text, copy_preview
from tests.fixtures.engine import copy_request
from tests.fixtures.web import put_draft

pytestmark = pytest.mark.django_db


def _preview(profile, object_name, source_id, **options):
    overrides = {"name__v": "Tree copy"} if object_name == "product__v" else {}
    return copy_preview(
        request=copy_request(
            profile, object_name, [source_id], "deep_copy", overrides=overrides, options=CopyOptions(**options)
        )
    )


def _counts(plan, left_out=frozenset()):
    kept = cost.kept_groups(plan.cost, frozenset(left_out))
    return sum(g["count"] for g in kept), cost.write_calls(plan.cost, frozenset(left_out))


@pytest.mark.parametrize(
    ("system", "object_name", "name", "leave_out"),
    [
        ("vault", "product__v", "Cardiostat", "packaging__c"),
        ("vault", "product__v", "Cardiostat", "formulation__c"),  # and packaging below it
        ("zoho", "Accounts", "Globex", "Deals"),  # Tasks and Notes under Deals go too, Contacts' stay
        ("zoho", "Accounts", "Globex", "Contacts"),
        # References set by the second pass (repoint.py): their update calls go with their branch.
        ("zoho", "Accounts", "Reporting Lines", "Contacts"),
        ("vault", "product__v", "Linked Product", "packaging__c"),
    ],
)
def test_the_rule_on_the_full_plan_predicts_the_plan_with_a_branch_left_out(
    fresh_sandbox, vault_profile, zoho_profile, system, object_name, name, leave_out
):
    profile = vault_profile if system == "vault" else zoho_profile
    conn = connector_for(profile)
    source_id = next(r.id for r in conn.search(object_name, name).records if r.name == name)
    full = _preview(profile, object_name, source_id)
    assert full.write_calls == _counts(full)[1]
    assert full.related_total == _counts(full)[0] > 0
    related, calls = _counts(full, {leave_out})
    verdict = cost.limit_verdict(full.cost, frozenset({leave_out}))

    smaller = _preview(profile, object_name, source_id, exclude=(leave_out,))
    assert not smaller.refused_reason
    assert (smaller.related_total, smaller.write_calls, smaller.verdict) == (related, calls, verdict)
    assert related < full.related_total
    assert _write_calls_text(calls) in smaller.way  # the way's text states the same rule's number
    per_row = {(o.object_name, o.depth): o.count for o in smaller.objects}
    for o in full.objects:
        predicted = sum(
            g["count"]
            for g in cost.kept_groups(full.cost, frozenset({leave_out}))
            if (g["object"], g["depth"]) == (o.object_name, o.depth)
        )
        assert per_row.get((o.object_name, o.depth), 0) == (o.count if o.depth == 0 else predicted)


def test_vault_own_deep_copy_costs_one_call_until_a_branch_is_left_out(fresh_sandbox, vault_profile):
    conn = connector_for(vault_profile)
    source_id = next(r.id for r in conn.search("product__v", "Cardiostat").records)
    full = _preview(vault_profile, "product__v", source_id)
    assert full.way.startswith("Vault's own deep copy") and full.write_calls == 1
    assert full.verdict == f"{full.related_total:,} related records: within Vault's 10,000 limit."
    assert full.as_dict()["limit"] == 10_000 and full.as_dict()["cost"]["own_deep_copy"] is True
    # Leaving out packaging makes the engine build it: the top record, then formulations in batches.
    assert cost.write_calls(full.cost, frozenset({"packaging__c"})) == 2


def test_a_refused_too_large_plan_has_no_cost_to_recompute(fresh_sandbox, vault_profile, settings):
    conn = connector_for(vault_profile)
    source_id = next(r.id for r in conn.search("product__v", "Large Product").records)
    settings.ENGINE_DEEP_COPY_MAX_RECORDS = 100
    plan = _preview(vault_profile, "product__v", source_id, engine=True)
    assert "more than 100 related records" in plan.refused_reason
    assert plan.cost == {} and plan.write_calls is None and plan.verdict == ""


def test_the_page_says_when_a_refused_plan_can_not_be_recounted(fresh_sandbox, vault_profile, owner_client, settings):
    from django.urls import reverse

    conn = connector_for(vault_profile)
    source_id = next(r.id for r in conn.search("product__v", "Large Product").records)
    put_draft(
        owner_client,
        vault_profile,
        "product__v",
        [source_id],
        overrides={"name__v": "Large T"},
        label="Large Product",
        options=CopyOptions(engine=True).as_dict(),
    )
    settings.ENGINE_DEEP_COPY_MAX_RECORDS = 100
    page = owner_client.get(reverse("copy_preview", args=["d1"])).content.decode()
    assert "more than 100 related records" in page and "can't be recomputed here" in page
    # The engine's limit was hit, not Vault's: the message says whose (the review found "Vault allows").
    assert "the most Record Copier copies in one job" in page and "Vault allows" not in page
    assert "plan-cost-data" not in page
    settings.ENGINE_DEEP_COPY_MAX_RECORDS = 100_000
    # The same preview asked again is the plan already read; "Read again" reads it anew.
    page = owner_client.get(reverse("copy_preview", args=["d1"]) + "?again=1", follow=True).content.decode()
    assert 'id="plan-cost-data"' in page and "within Record Copier&#x27;s 100,000 limit" in page


def test_a_refused_plan_offers_each_branch_with_the_rows_it_greys(fresh_sandbox, vault_profile, owner_client, settings):
    """The refused plan has no cost to recount, but its rows name the objects each is reached
    through, which preview_tree.js greys a left-out branch by (tests/e2e/test_preview.py)."""
    from django.urls import reverse

    conn = connector_for(vault_profile)
    source_id = next(r.id for r in conn.search("product__v", "Large Product").records)
    put_draft(
        owner_client,
        vault_profile,
        "product__v",
        [source_id],
        overrides={"name__v": "Large G"},
        label="Large Product",
        options=CopyOptions(engine=True).as_dict(),
    )
    settings.ENGINE_DEEP_COPY_MAX_RECORDS = 100
    page = owner_client.get(reverse("copy_preview", args=["d1"])).content.decode()
    assert "can't be recomputed here" in page
    for name in ("formulation__c", "packaging__c"):
        assert f'name="include" value="{name}" checked' in page
    assert 'data-object="packaging__c" data-parent-object="formulation__c" data-depth="2"' in page
    assert "records/preview_tree.js" in page


def test_ticking_build_level_by_level_predicts_the_engine_plan(fresh_sandbox, vault_profile):
    conn = connector_for(vault_profile)
    source_id = next(r.id for r in conn.search("product__v", "Cardiostat").records)
    own = _preview(vault_profile, "product__v", source_id)
    calls, verdict = cost.write_calls(own.cost, engine=True), cost.limit_verdict(own.cost, engine=True)
    engine = _preview(vault_profile, "product__v", source_id, engine=True)
    assert engine.way.startswith("Built level by level") and (engine.write_calls, engine.verdict) == (calls, verdict)
    assert calls == 1 + 1 + 1  # the top record, then one batch of formulations and one of packagings
    assert verdict.endswith("within Record Copier's 100,000 limit.")
    # And back: unticked on the engine plan, Vault's own deep copy and its limit again.
    assert cost.write_calls(engine.cost, engine=False) == own.write_calls == 1
    assert cost.limit_verdict(engine.cost, engine=False) == own.verdict


def test_mega_product_built_by_the_engine_is_over_vaults_limit_without_it(fresh_sandbox, vault_profile):
    conn = connector_for(vault_profile)
    source_id = next(r.id for r in conn.search("product__v", "Mega Product").records if r.name == "Mega Product")
    engine = _preview(vault_profile, "product__v", source_id, engine=True)
    assert engine.related_total > 10_000 and "within Record Copier's" in engine.verdict
    verdict = cost.limit_verdict(engine.cost, engine=False)
    assert verdict == (
        f"{engine.related_total:,} related records: over the limit: more than Vault's 10,000. "
        "Leave out a branch, or build it level by level."
    )
    refused = _preview(vault_profile, "product__v", source_id)
    assert "more than 10,000 related records" in refused.refused_reason and not refused.cost


def test_the_second_pass_update_calls_are_in_the_cost_the_page_recounts(fresh_sandbox, zoho_profile):
    """Reporting Lines' contacts point at each other: the plan's cost counts the update call that
    re-points them, in the groups the page's JS recounts (not only in the way's text)."""
    conn = connector_for(zoho_profile)
    source_id = next(r.id for r in conn.search("Accounts", "Reporting Lines").records if r.name == "Reporting Lines")
    plan = _preview(zoho_profile, "Accounts", source_id)
    updates = sum(g["updates"] for g in plan.cost["groups"])
    assert updates >= 3 and cost.update_calls(plan.cost) == 1
    assert "then 1 update call re-pointing references" in plan.way
    assert cost.update_calls(plan.cost, frozenset({"Contacts"})) == 0


def test_one_write_call_is_singular(fresh_sandbox, zoho_profile):
    """A tree of only its top record costs "1 write call" (the walk found "1 write calls")."""
    assert (_write_calls_text(1), _write_calls_text(2), _write_calls_text(1234)) == (
        "1 write call",
        "2 write calls",
        "1,234 write calls",
    )
