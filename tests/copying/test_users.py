"""Users mapped by e-mail (records/copying/users.py): the pure matching, each choice for a user
without a match, and the user mapping's unknown e-mails."""

from typing import NamedTuple

import pytest
from django.core.exceptions import ValidationError

from records.copying.users import check_user_map, match_users, target_choices, users_held


class User(NamedTuple):
    id: str
    email: str
    name: str
    active: bool = True


SOURCE = [User("1", "Admin@Example.com", "Ann Admin"), User("2", "rep@example.com", "Rex Rep")]
TARGET = [User("91", "admin@example.com", "Ann Admin"), User("92", "data@example.com", "Dan Data")]


def test_same_email_in_another_case_is_the_same_user():
    found = match_users(held={"1": 3}, source=SOURCE, target=TARGET, user_map={}, api_user_id="99")
    assert found.mapped == {"1": "91"}
    assert found.rows == [
        {
            "source": "Ann Admin <Admin@Example.com>",
            "source_id": "1",
            "email": "Admin@Example.com",  # the preview's choice per user is keyed by it
            "records": 3,
            "target": "Ann Admin <admin@example.com>",
            "target_id": "91",
            "how": "same e-mail",
        }
    ]
    assert found.refused == []


def test_a_user_without_a_match_is_refused_by_default():
    found = match_users(held={"1": 1, "2": 2}, source=SOURCE, target=TARGET, user_map={}, api_user_id="99")
    assert found.mapped == {"1": "91"}
    assert found.refused == ["Rex Rep <rep@example.com>"]
    assert [r["how"] for r in found.rows] == ["same e-mail", "refused"]


@pytest.mark.parametrize(
    ("choice", "target_id"),
    [("@api", "99"), ("DATA@example.com", "92"), ("@refuse", "")],
)
def test_each_choice_for_a_user_without_a_match(choice, target_id):
    found = match_users(
        held={"2": 4}, source=SOURCE, target=TARGET, user_map={"rep@example.com": choice}, api_user_id="99"
    )
    assert found.mapped == ({"2": target_id} if target_id else {})
    assert found.rows[0]["records"] == 4


def test_a_choice_wins_over_the_same_email():
    found = match_users(
        held={"1": 1}, source=SOURCE, target=TARGET, user_map={"admin@example.com": "data@example.com"}, api_user_id=""
    )
    assert found.mapped == {"1": "92"}


def test_a_user_the_source_does_not_know_is_refused_with_its_id():
    found = match_users(held={"7": 1}, source=SOURCE, target=TARGET, user_map={}, api_user_id="99")
    assert found.refused == ["user 7 (not found in the source)"]


def test_unknown_emails_in_the_user_mapping_are_named():
    with pytest.raises(ValidationError) as caught:
        check_user_map(
            user_map={"nobody@example.com": "@api", "rep@example.com": "ghost@example.com"},
            source=SOURCE,
            target=TARGET,
        )
    text = caught.value.messages[0]
    assert "nobody@example.com (not a user of the source)" in text
    assert "ghost@example.com (not a user of the target)" in text


def test_known_emails_and_the_keywords_pass():
    check_user_map(
        user_map={"REP@example.com": "@api", "admin@example.com": "data@example.com"}, source=SOURCE, target=TARGET
    )


def test_users_held_counts_records_per_user_from_ids_and_lookups():
    records = [
        ("Accounts", {"Owner": {"id": "1", "name": "Ann"}}),
        ("Contacts", {"Owner": {"id": "1"}, "Reviewer": "2"}),
        ("Contacts", {"Owner": None}),
    ]
    held = users_held(records, {"Accounts": ["Owner"], "Contacts": ["Owner", "Reviewer"]})
    assert held == {"1": 2, "2": 1}


def test_a_user_inactive_in_the_target_is_refused_unless_chosen_otherwise():
    target = [User("91", "admin@example.com", "Ann Admin", active=False)]
    found = match_users(held={"1": 1}, source=SOURCE, target=target, user_map={}, api_user_id="99")
    assert found.mapped == {} and found.rows[0]["target"] == "Ann Admin <admin@example.com>, inactive"
    chosen = match_users(
        held={"1": 1}, source=SOURCE, target=target, user_map={"admin@example.com": "@api"}, api_user_id="99"
    )
    assert chosen.mapped == {"1": "99"}


def test_the_choices_are_the_targets_active_users_with_an_email_by_name():
    target = [*TARGET, User("93", "gone@example.com", "Al Gone", active=False), User("94", "", "No Mail")]
    assert target_choices(target) == [
        {"email": "admin@example.com", "name": "Ann Admin"},
        {"email": "data@example.com", "name": "Dan Data"},
    ]
