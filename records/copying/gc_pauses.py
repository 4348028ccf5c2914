"""Fewer and shorter pauses of Python's cycle collector while a job is planned or run.

A run or a plan makes tens of thousands of objects that live for its length (5,000 result rows,
their payloads, the records read), and each time enough of them have survived, the collector
scans every object of the process: the framework's and every module's too. In the benchmark's
process two such full scans cost 0.2–0.4 s of a 5,000 clone's 2.3 s, with every thread stopped.
Inside `fewer_pauses()` what existed before is frozen
(gc.freeze: kept out of the collector's scans, still freed by reference counting), so a full
scan covers only what the job made. Only timing changes: cyclic garbage made before is collected
once the outermost block ends (gc.unfreeze), as it would have been a little later anyway. Only
the first block freezes: one that starts while another is under way (the web's threads) freezes
nothing more, so what the blocks make is always scanned, even if they overlap for hours.
A process that froze its start-up objects already (an RQ worker's preload, gunicorn's master
before the fork) is left as it is: unfreezing at a block's end would hand those back to every
full scan for the rest of the process's life.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # blocks under way in this process (the web's threads may plan at once)
_froze = False  # whether the outermost block under way froze (and so unfreezes)


@contextmanager
def fewer_pauses() -> Iterator[None]:
    global _depth, _froze
    with _lock:
        _depth += 1
        if _depth == 1:
            _froze = gc.get_freeze_count() == 0
            if _froze:
                gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _froze:
                gc.unfreeze()
