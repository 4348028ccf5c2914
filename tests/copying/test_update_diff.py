"""A re-run with `update` sends only the fields whose values differ, compared as a person reads
them, and keeps what each changed field held."""

import pytest

from records.copying.update_diff import differing, previous, same


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (None, ""),
        ([], None),
        ({"id": "123", "name": "Acme"}, "123"),
        ({"id": "123"}, {"id": "123", "name": "Acme Corp"}),
        (["west", "north"], ["north", "west"]),
        (10, 10.0),
        ("Retail", "Retail"),
        (71590, "71590"),  # a user id Vault answers as a number, sent by the copy as text
    ],
)
def test_values_read_the_same_are_not_sent(a, b):
    assert same(a, b) and same(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Retail", "retail"),
        (71590, "71591"),
        ({"id": "123"}, {"id": "124"}),
        (["north"], ["north", "west"]),
        (True, 1.5),
        (0, None),
        ("x", None),
    ],
)
def test_values_that_differ_are_sent(a, b):
    assert not same(a, b)


def test_only_differing_fields_with_their_previous_values():
    wanted = {"Phone": "+1 555", "Industry": "Retail", "Parent_Account": "77", "Description": ""}
    current = {"Phone": "+1 555", "Industry": "Finance", "Parent_Account": {"id": "77", "name": "Acme"}}
    changed = differing(wanted, current)
    assert changed == {"Industry": "Retail"}
    assert previous(changed, current) == {"Industry": "Finance"}
    assert differing(wanted, {**current, "Industry": "Retail"}) == {}
