"""The cycle collector's scans skip what existed before a job was planned or run (gc_pauses.py)."""

import gc

import pytest

from records.copying.gc_pauses import fewer_pauses
from tests.fixtures.engine import run_job, start_job


def test_what_existed_before_the_first_block_is_frozen_until_the_last_ends():
    assert gc.get_freeze_count() == 0
    with fewer_pauses():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        made = [[] for _ in range(1000)]  # what the job makes is scanned as usual
        with fewer_pauses():  # another plan in another thread of the same process: nothing more frozen
            assert gc.get_freeze_count() <= frozen  # (frozen objects still die by reference counting)
        assert gc.get_freeze_count() <= frozen and made
    assert gc.get_freeze_count() == 0


def test_a_process_frozen_at_start_stays_frozen_after_a_block():
    gc.freeze()  # as a preloaded RQ worker or gunicorn's master before the fork
    try:
        frozen = gc.get_freeze_count()
        with fewer_pauses():
            pass
        assert gc.get_freeze_count() > frozen // 2  # not handed back (frozen objects may still die)
    finally:
        gc.unfreeze()


@pytest.mark.django_db
def test_a_clone_is_planned_and_run_with_the_process_objects_frozen(vault, owner):
    sb, profile, conn = vault
    ids = [
        r.new_id
        for r in conn.create("product__v", [{"name__v": f"Frozen {i}", "status__v": ["active__v"]} for i in range(3)])
    ]
    seen: list[int] = []
    sb.hooks("vault").after("GET", r"/metadata/vobjects/product__v$", lambda: seen.append(gc.get_freeze_count()))
    names = {i: {"name__v": f"Frozen copy {k}"} for k, i in enumerate(ids)}
    job = start_job(profile, owner, "product__v", ids, "clone", row_overrides=names)  # reads the metadata
    assert seen and all(seen)
    seen.clear()
    conn.metadata.forget("product__v")
    job = run_job(job)  # the run reads it again (a connector of its own)
    assert seen and all(seen)
    assert job.succeeded_count == 3
    assert gc.get_freeze_count() == 0
