"""A counting gate that lets its waiters in in the order they came.

threading.Semaphore lets a thread that asks just as a slot frees take it ahead of the threads
already waiting (the woken waiter finds it gone and waits again). A plan's reads are started
together and each fans out its own calls: a bulk clone's last names query, waiting since the plan
began, was seen starting a round after the holders' queries asked later (they are needed last),
and the plan's CPU, which needs the names, started a round late. Here a freed slot is handed to
the oldest waiter; a thread that finds no one waiting and a slot free takes it at once.
"""

from __future__ import annotations

import threading
from collections import deque
from types import TracebackType


class InTurn:
    """At most `size` holders at once (a context manager, like a BoundedSemaphore)."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._lock = threading.Lock()
        self._free = self.size
        self._waiting: deque[threading.Lock] = deque()  # one locked lock a waiter, oldest first

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return True
            if not blocking:
                return False
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        if turn.acquire(timeout=timeout):  # unlocked by release: the slot was handed over
            return True
        with self._lock:
            if turn in self._waiting:  # still waiting: give up the place
                self._waiting.remove(turn)
                return False
        return True  # handed over just as the wait ran out: the slot is ours

    def release(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()  # the slot goes to the oldest waiter, not back
            elif self._free < self.size:
                self._free += 1
            else:
                raise ValueError("InTurn released more times than acquired")

    def __enter__(self) -> InTurn:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
