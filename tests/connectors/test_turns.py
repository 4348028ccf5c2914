"""The Vault connector's gate on calls in flight (records/connectors/turns.py): waiters in order."""

import threading
import time

import pytest

from records.connectors.turns import InTurn


def _waiter(gate: InTurn, order: list, name: str) -> threading.Thread:
    def wait() -> None:
        with gate:
            order.append(name)

    thread = threading.Thread(target=wait)
    thread.start()
    return thread


def _waiting(gate: InTurn, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(gate._waiting) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(gate._waiting) == count


def test_a_freed_slot_goes_to_the_thread_waiting_not_to_one_asking_just_then():
    gate = InTurn(1)
    gate.acquire()
    order: list = []
    waiter = _waiter(gate, order, "waited")
    _waiting(gate, 1)
    gate.release()
    # threading.Semaphore would let this ask take the slot before the woken waiter runs.
    assert not gate.acquire(blocking=False)
    waiter.join(5)
    assert order == ["waited"]
    assert gate.acquire(blocking=False)  # free again once the waiter is done
    gate.release()


def test_waiters_get_their_turns_in_the_order_they_asked():
    gate = InTurn(1)
    gate.acquire()
    order: list = []
    threads = []
    for name in "abcd":
        threads.append(_waiter(gate, order, name))
        _waiting(gate, len(threads))
    gate.release()  # each waiter, done, hands the slot to the next oldest
    for thread in threads:
        thread.join(5)
    assert order == list("abcd")
    assert gate._free == 1


def test_a_wait_that_runs_out_gives_up_its_place():
    gate = InTurn(1)
    gate.acquire()
    assert not gate.acquire(timeout=0.05)
    assert not gate._waiting
    gate.release()
    assert gate.acquire(blocking=False)
    gate.release()
    with pytest.raises(ValueError):
        gate.release()
