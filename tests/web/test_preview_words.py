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


def test_vault_preview_says_a_left_out_branch_is_built_level_by_level_anyway(
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
    note = page.split('id="engine-needed"')[1].split("</span>")[0]
    assert "hidden" not in note.split(">")[0]
    assert "built level by level anyway: a branch is left out or records below the top are changed" in note
    assert "--engine" not in page


def test_vault_refusals_name_the_box_not_the_flag(vault):
    sb, profile, conn = vault
    src = next(r.id for r in conn.search("product__v", "Large Product").records if r.name == "Large Product")
    conn.max_deep_copy_records = 500  # Vault's limit, lowered so a demo product passes it
    plan = copy_preview(
        request=copy_request(profile, "product__v", [src], "deep_copy", overrides={"name__v": "Large W"}),
        connector=conn,
    )
    assert f"tick “{ENGINE_BOX}”" in plan.refused_reason and "--engine" not in plan.refused_reason
    with pytest.raises(Exception, match=ENGINE_BOX) as refused:
        copy_preview(
            request=copy_request(
                profile,
                "product__v",
                [src],
                "deep_copy",
                overrides={"name__v": "Large W"},
                options=CopyOptions(unique={"product__v": ("name__v",)}),
            ),
            connector=conn,
        )
    assert "--engine" not in str(refused.value)


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
