"""Budgets read from the answers: Vault's burst window paced, Zoho's credits slowed and kept."""

import pytest

from records.connectors.budgets import CREDIT_PAUSE, Budget, credit_pause


def _budget(remaining: int, now: list[float]) -> Budget:
    budget = Budget("burst", clock=lambda: now[0])
    budget.note(remaining, 2000)  # the window taken to start at 0, this first answer
    return budget


def test_no_pause_while_the_window_has_room():
    now = [100.0]
    budget = _budget(500, now)
    now[0] = 100.0
    assert [budget.pace(window=300, threshold=200) for _ in range(3)] == [0, 0, 0]


def test_the_rest_of_the_window_is_shared_by_the_calls_left_on_one_schedule():
    """Calls let go before an answer came (other threads') take the next turns: the second waits
    one share, the third two (not each a share after its own answer)."""
    now = [0.0]
    budget = _budget(100, now)
    now[0] = 100.0  # 200 s left of the window, 100 calls: one every 2 s
    waits = [budget.pace(window=300, threshold=200) for _ in range(3)]
    assert waits == pytest.approx([0.0, 2.0, 4.0])
    for _ in range(3):
        budget.note(97, 2000)  # their answers: the calls are counted by Vault now, not twice
    assert budget.pace(window=300, threshold=200) == pytest.approx(6.0)


def test_a_spent_window_holds_every_call_until_its_end_and_no_longer():
    now = [0.0]
    budget = _budget(2, now)
    now[0] = 290.0
    waits = [budget.pace(window=300, threshold=200) for _ in range(5)]
    assert waits == pytest.approx([0.0, 5.0, 10.0, 10.0, 10.0])  # 2 left over 10 s; then the window's end
    now[0] = 301.0  # past the end: a new window, full
    assert budget.pace(window=300, threshold=200) == 0


def test_paced_calls_are_at_least_the_floor_apart():
    now = [0.0]
    budget = _budget(150, now)
    waits = [budget.pace(window=300, threshold=200, floor=3.0) for _ in range(3)]
    assert waits == pytest.approx([0.0, 3.0, 6.0])


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
