"""Users of a copy into another org or vault, over HTTP against two sandbox instances: Zoho's Owner
and Vault's user fields (product_manager__c → user__sys) of every copied record mapped by e-mail to
the target's user of the same e-mail (other ids); a user the target lacks refuses the copy (nothing
written) unless the user map gives it another target user or the API user; unknown e-mails refused."""

import pytest
from django.core.exceptions import ValidationError

from records.copying.options import CopyOptions
from records.models import CopyJob
from sandbox import demo, target_org
from sandbox.zoho_state import DATA_USER, REP, USER
from tests.copying.test_cross_copy import copy_across
from tests.fixtures.engine import assert_each_record_copied_once, preview
from tests.fixtures.sandbox import find_record

pytestmark = pytest.mark.django_db
DEEP = CopyJob.Mode.DEEP_COPY


def target_ids(cross):
    return {u.email: u.id for u in cross.target.connector.users()}


def deep_preview(cross, account, **options):
    source = cross.source
    return preview(
        source.profile,
        "Accounts",
        [account],
        DEEP,
        connector=source.connector,
        target=cross.target.profile,
        overrides={"Account_Name": "Copied"},
        options=CopyOptions(**options),
    )


@pytest.fixture
def acme(cross_zoho):
    """Globex: a small account; its records are the API user's (admin@), in both orgs."""
    return find_record(cross_zoho.source.connector, "Accounts", "Globex")


def set_owner(cross, account, user):
    cross.source.sandbox.zoho.state.records["Accounts"][account]["Owner"] = user["id"]  # as the sandbox stores it


def test_the_owner_is_mapped_by_email_to_the_target_user_with_other_ids(cross_zoho, acme):
    set_owner(cross_zoho, acme, DATA_USER)
    plan = deep_preview(cross_zoho, acme)
    assert not plan.refused_reason, plan.refused_reason
    rows = {r["source_id"]: r for r in plan.cross["users"]}
    assert set(rows) == {DATA_USER["id"], USER["id"]}  # the account's owner; the API user owns the rest
    assert rows[DATA_USER["id"]]["records"] == 1 and rows[USER["id"]]["records"] == plan.total - 1
    emails = target_ids(cross_zoho)
    assert plan.cross["refs"]["Users"] == {
        DATA_USER["id"]: emails[DATA_USER["email"]],
        USER["id"]: emails[USER["email"]],
    }
    assert emails[DATA_USER["email"]] != DATA_USER["id"]
    assert {r["how"] for r in rows.values()} == {"same e-mail"}


def test_a_user_the_target_lacks_refuses_the_plan_by_default(cross_zoho, acme):
    set_owner(cross_zoho, acme, REP)
    plan = deep_preview(cross_zoho, acme)
    assert REP["email"] in plan.refused_reason and "--map-user" in plan.refused_reason


@pytest.mark.parametrize("choice", ["@api", USER["email"]])
def test_a_user_the_target_lacks_goes_to_the_api_user_or_the_one_chosen(cross_zoho, acme, choice):
    set_owner(cross_zoho, acme, REP)
    plan = deep_preview(cross_zoho, acme, user_map={REP["email"]: choice})
    assert not plan.refused_reason, plan.refused_reason
    expected = cross_zoho.target.connector.api_user_id() if choice == "@api" else target_ids(cross_zoho)[choice]
    assert plan.cross["refs"]["Users"][REP["id"]] == expected


def test_unknown_emails_in_the_user_map_are_refused_before_anything_is_queued(cross_zoho, acme):
    with pytest.raises(ValidationError, match="nobody@example.com"):
        deep_preview(cross_zoho, acme, user_map={"nobody@example.com": "@api"})
    with pytest.raises(ValidationError, match=r"rep@.*not a user of the target"):
        deep_preview(cross_zoho, acme, user_map={DATA_USER["email"]: REP["email"]})


def test_the_copy_command_refuses_an_unknown_map_user_email_with_exit_2(cross_zoho, acme):
    import io

    from django.core.management import call_command

    err = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command(
            "copy",
            "Sandbox Zoho",
            "Accounts",
            acme,
            "--deep",
            "--to",
            "Target Zoho",
            "--map-user",
            "nobody@example.com=@api",
            "--preview",
            stdout=io.StringIO(),
            stderr=err,
        )
    assert exc.value.code == 2
    assert "nobody@example.com (not a user of the source)" in err.getvalue()


def owner_of_copy(cross, job):
    return cross.target.sandbox.zoho.state.records["Accounts"][job.results.get(depth=0).new_id]["Owner"]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("@api", target_org.ZOHO_API_USER), (DATA_USER["email"], target_org.ZOHO_DATA_USER)],
    ids=["the-api-user", "another-target-user"],
)
def test_a_zoho_owner_the_target_lacks_is_written_as_the_user_chosen(cross_zoho, acme, owner, choice, expected):
    set_owner(cross_zoho, acme, REP)
    job = copy_across(cross_zoho, owner, "Accounts", [acme], "clone", user_map={REP["email"]: choice})
    assert_each_record_copied_once(job)
    assert owner_of_copy(cross_zoho, job) == expected["id"] != REP["id"]


def test_a_zoho_owner_the_target_lacks_refused_writes_nothing(cross_zoho, acme, owner):
    set_owner(cross_zoho, acme, REP)
    before = set(cross_zoho.target.sandbox.zoho.state.records["Accounts"])
    for user_map in ({}, {REP["email"]: "@refuse"}):
        with pytest.raises(ValidationError, match=REP["email"]):
            copy_across(cross_zoho, owner, "Accounts", [acme], "clone", user_map=user_map)
    assert set(cross_zoho.target.sandbox.zoho.state.records["Accounts"]) == before


# -- Vault: product__v.product_manager__c, an Object field pointing at user__sys -------------------


def vault_product(cross, name):
    return find_record(cross.source.connector, "product__v", name)


def written_products(cross):
    return cross.target.sandbox.vault.state.records["product__v"]


def vault_target_id(main_id):
    return target_org.vault_user_id(main_id)


@pytest.mark.parametrize("cross_name", ["cross_vault", "bare_cross_vault"])
def test_a_vault_user_field_is_mapped_by_email_to_the_target_user_with_another_id(request, owner, cross_name):
    cross = request.getfixturevalue(cross_name)
    job = copy_across(cross, owner, "product__v", [vault_product(cross, "Dermacalm")], "clone")
    assert_each_record_copied_once(job)
    copy = written_products(cross)[job.results.get().new_id]
    assert copy["product_manager__c"] == vault_target_id(demo.VAULT_DATA_USER_ID) != demo.VAULT_DATA_USER_ID
    assert copy["created_by__v"] == vault_target_id(demo.VAULT_USER_ID)  # the target's API user wrote it


def test_a_vault_user_the_target_lacks_refuses_the_copy_and_nothing_is_written(cross_vault, owner):
    before = set(written_products(cross_vault))
    with pytest.raises(ValidationError, match=demo.VAULT_REP_EMAIL):
        copy_across(cross_vault, owner, "product__v", [vault_product(cross_vault, "Osteofirm")], "clone")
    assert set(written_products(cross_vault)) == before
    assert not CopyJob.objects.exists()


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("@api", demo.VAULT_USER_ID), (demo.VAULT_DATA_USER_NAME, demo.VAULT_DATA_USER_ID)],
    ids=["the-api-user", "another-target-user"],
)
def test_a_vault_user_the_target_lacks_goes_to_the_user_chosen(cross_vault, owner, choice, expected):
    src = vault_product(cross_vault, "Osteofirm")
    job = copy_across(cross_vault, owner, "product__v", [src], "clone", user_map={demo.VAULT_REP_EMAIL: choice})
    assert_each_record_copied_once(job)
    assert written_products(cross_vault)[job.results.get().new_id]["product_manager__c"] == vault_target_id(expected)


def test_a_vault_user_the_target_lacks_refused_explicitly_writes_nothing(cross_vault, owner):
    before = set(written_products(cross_vault))
    src = vault_product(cross_vault, "Osteofirm")
    with pytest.raises(ValidationError, match=demo.VAULT_REP_EMAIL):
        copy_across(cross_vault, owner, "product__v", [src], "clone", user_map={demo.VAULT_REP_EMAIL: "@refuse"})
    assert set(written_products(cross_vault)) == before
