"""Budgets read from the answers: Vault's burst window paced, Zoho's credits slowed and kept."""

import pytest

from records.connectors.budgets import CREDIT_PAUSE, Budget, burst_pause, credit_pause


def test_no_pause_while_the_window_has_room():
    assert burst_pause(500, threshold=200, seconds_left=100) == 0


def test_what_is_left_of_the_window_is_shared_by_the_calls_left():
    assert burst_pause(100, threshold=200, seconds_left=200) == pytest.approx(2.0)
    assert burst_pause(0, threshold=200, seconds_left=30) == pytest.approx(30.0)  # none left: the window's end
    assert burst_pause(100, threshold=200, seconds_left=-5, floor=0.1) == pytest.approx(0.1)


def test_credits_slow_down_below_the_reserve_up_to_the_floor():
    assert credit_pause(5000, reserve=1000, floor=50) == 0
    assert 0 < credit_pause(600, reserve=1000, floor=50) < credit_pause(200, reserve=1000, floor=50)
    assert credit_pause(10, reserve=1000, floor=50) == pytest.approx(CREDIT_PAUSE)


def test_a_new_window_is_seen_when_the_count_goes_back_up():
    now = [0.0]
    budget = Budget("burst", clock=lambda: now[0])
    budget.note(1999, 2000)
    now[0] = 100.0
    budget.note(1500, 2000)
    assert budget.seconds_left(300) == pytest.approx(200)  # the window began at the first answer
    now[0] = 310.0
    budget.note(1999, 2000)  # more left than before: a new window
    assert budget.seconds_left(300) == pytest.approx(300)
    snap = budget.snapshot().as_dict()
    assert snap["remaining"] == 1999 and snap["limit"] == 2000 and snap["kind"] == "burst"


def test_nothing_noted_without_the_header():
    budget = Budget("credits")
    budget.note(None)
    assert budget.snapshot().remaining is None
