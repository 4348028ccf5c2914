"""Users of a copy into another Zoho org, over HTTP against two sandbox orgs: the Owner of every
copied record mapped by e-mail to the target's user of the same e-mail (other ids); a user the
target lacks refuses the plan unless the user map says otherwise; unknown e-mails refused."""

import pytest
from django.core.exceptions import ValidationError

from records.copying.options import CopyOptions
from records.models import CopyJob
from sandbox.zoho_state import DATA_USER, REP, USER
from tests.fixtures.engine import preview
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
