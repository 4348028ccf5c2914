"""The preview speaks the page's own words: the boxes' labels, not the copy command's flags or API
names, over the sandbox (real HTTP through the connectors)."""

import pytest
from django.urls import reverse

from records.connectors import connector_for
from records.copying.options import CopyOptions
from records.copying.preview import copy_preview
from tests.fixtures.engine import copy_request
from tests.fixtures.web import put_draft

pytestmark = pytest.mark.django_db

ENGINE_BOX = "Build the hierarchy level by level"


def _preview(client, profile, object_name, name, **extra):
    conn = connector_for(profile)
    src = next(r.id for r in conn.search(object_name, name).records if r.name == name)
    put_draft(client, profile, object_name, [src], label=name, **extra)
    return client.get(reverse("copy_preview", args=["d1"])).content.decode()


def test_zoho_preview_names_the_workflow_box_by_its_label(owner_client, zoho_profile, fresh_sandbox):
    page = _preview(owner_client, zoho_profile, "Accounts", "Globex", overrides={"Account_Name": "Globex X"})
    assert "run workflows" not in page
    assert "tick “Let workflows, approvals and blueprints fire on inserted copies”" in page
    assert "sets off" not in page and "copy command" not in page


def _engine_box(page):
    return page.split('name="engine"')[0].rsplit("<input", 1)[1] + page.split('name="engine"')[1].split(">")[0]


def test_vault_preview_shows_the_level_by_level_box_ticked_and_locked_when_a_branch_is_left_out(
    owner_client, vault_profile, fresh_sandbox
):
    page = _preview(
        owner_client,
        vault_profile,
        "product__v",
        "Cardiostat",
        overrides={"name__v": "Cardiostat W"},
        options={"exclude": ["packaging__c"]},
    )
    box = _engine_box(page)
    assert "checked" in box and "disabled" in box and 'aria-describedby="engine-needed"' in box
    note = page.split('id="engine-needed"')[1].split("</span>")[0]
    assert "hidden" not in note.split(">")[0]
    assert "Ticked and locked: a branch is left out or records below the top are changed" in note
    assert "--engine" not in page
    # Not chosen by the person: nothing carries a choice of theirs past the locked box.
    assert '<input type="hidden" name="engine_kept" value="on" id="engine-kept" disabled>' in page


def test_a_locked_level_by_level_box_keeps_the_persons_own_tick(owner_client, vault_profile, fresh_sandbox):
    page = _preview(
        owner_client,
        vault_profile,
        "product__v",
        "Cardiostat",
        overrides={"name__v": "Cardiostat K"},
        options={"exclude": ["packaging__c"], "engine": True},
    )
    # A disabled box is not sent: the hidden input sends the person's tick, kept for when the
    # branch is ticked again.
    assert '<input type="hidden" name="engine_kept" value="on" id="engine-kept">' in page
    assert 'data-chosen="1"' in _engine_box(page)


@pytest.mark.parametrize(("sent", "kept"), [({"engine_kept": "on"}, True), ({}, False)])
def test_the_choices_keep_the_persons_tick_sent_past_a_locked_box(
    owner_client, vault_profile, fresh_sandbox, sent, kept
):
    _preview(owner_client, vault_profile, "product__v", "Cardiostat", overrides={"name__v": "Cardiostat P"})
    post = {"object": ["formulation__c", "packaging__c"], "include": ["formulation__c"], **sent}
    assert owner_client.post(reverse("copy_choices", args=["d1"]), post).status_code == 302
    page = owner_client.get(reverse("copy_preview", args=["d1"])).content.decode()
    box = _engine_box(page)
    assert "checked" in box and "disabled" in box  # forced by the branch left out, either way
    assert ('data-chosen="1"' in box) is kept


def test_vault_preview_without_a_forced_choice_leaves_the_box_to_the_person(owner_client, vault_profile, fresh_sandbox):
    page = _preview(owner_client, vault_profile, "product__v", "Cardiostat", overrides={"name__v": "Cardiostat F"})
    box = _engine_box(page)
    assert "checked" not in box and "disabled" not in box


def test_a_branch_left_out_is_counted_against_the_limit_of_who_builds_it(vault):
    """Left out, a branch has Record Copier build the copy: the limit is its own, not Vault's."""
    sb, profile, conn = vault
    src = next(r.id for r in conn.search("product__v", "Large Product").records if r.name == "Large Product")
    conn.max_deep_copy_records = 30  # Vault's limit, lowered below Large Product's 40 formulations
    plan = copy_preview(
        request=copy_request(
            profile,
            "product__v",
            [src],
            "deep_copy",
            overrides={"name__v": "Large L"},
            options=CopyOptions(exclude=("packaging__c",)),
        ),
        connector=conn,
    )
    assert plan.refused_reason == "" and plan.verdict.endswith("within Record Copier's 100,000 limit.")


def test_vault_refusals_name_the_box_not_the_flag(vault):
    sb, profile, conn = vault
    src = next(r.id for r in conn.search("product__v", "Large Product").records if r.name == "Large Product")
    conn.max_deep_copy_records = 500  # Vault's limit, lowered so a demo product passes it
    plan = copy_preview(
        request=copy_request(profile, "product__v", [src], "deep_copy", overrides={"name__v": "Large W"}),
        connector=conn,
    )
    assert f"tick “{ENGINE_BOX}”" in plan.refused_reason and "--engine" not in plan.refused_reason


def test_make_unique_on_the_top_name_keeps_vaults_own_deep_copy(owner_client, vault_profile, fresh_sandbox):
    page = _preview(
        owner_client,
        vault_profile,
        "product__v",
        "Cardiostat",
        overrides={"name__v": "Cardiostat"},
        options={"unique": {"product__v": ["name__v"]}},
    )
    assert "msg-error" not in page and f"tick “{ENGINE_BOX}”" not in page
    assert "Vault&#x27;s own deep copy" in page.split('id="copy-way"')[1].split("</p>")[0]


def test_preview_counts_read_with_thousands_separators(owner_client, vault_profile, fresh_sandbox):
    page = _preview(owner_client, vault_profile, "product__v", "Large Product", overrides={"name__v": "Large N"})
    assert 'id="plan-related">2,000</span>' in page and 'id="plan-total">2,001</strong>' in page


def test_a_preview_refused_at_the_limit_keeps_the_counts_read(vault):
    from django.template.loader import render_to_string

    sb, profile, conn = vault
    src = next(r.id for r in conn.search("product__v", "Large Product").records if r.name == "Large Product")
    conn.max_deep_copy_records = 500  # Vault's limit, lowered so a demo product passes it
    plan = copy_preview(
        request=copy_request(profile, "product__v", [src], "deep_copy", overrides={"name__v": "Large C"}),
        connector=conn,
    )
    assert plan.refused and plan.counts_stopped
    assert plan.related_total == 501 and {o.object_name for o in plan.objects} >= {"product__v", "formulation__c"}
    html = render_to_string("records/_plan_objects.html", {"plan": plan})
    assert 'id="plan-total">at least 502</strong>' in html
