"""The benchmark's lower bound: dependent steps, each ⌈calls / concurrency⌉ × latency."""

import pytest

from bench.bounds import ReadLimits, level_queries, lower_bound, page_steps, read_steps, write_steps

COQL = ReadLimits(ids_per_query=100, rows_per_page=2000)
PER_PARENT = ReadLimits(ids_per_query=0, rows_per_page=200)


def test_calls_of_one_step_overlap_up_to_the_concurrency():
    assert lower_bound([1, 10, 3], concurrency=5, latency=0.2) == pytest.approx((1 + 2 + 1) * 0.2)
    assert lower_bound([1, 10, 3], concurrency=1, latency=0.2) == pytest.approx(14 * 0.2)


def test_empty_steps_cost_nothing_and_concurrency_must_be_positive():
    assert lower_bound([0, 0], concurrency=5, latency=1.0) == 0
    with pytest.raises(ValueError):
        lower_bound([1], concurrency=0, latency=1.0)


def test_a_querys_later_pages_wait_for_the_earlier_ones():
    assert page_steps([1, 3, 2]) == [3, 2, 1]
    assert page_steps([]) == []


def test_pages_read_by_offset_overlap_once_the_first_page_is_in():
    assert page_steps([10], by_offset=[True]) == [1, 9]
    assert page_steps([3, 1, 10], by_offset=[False, False, True]) == [3, 10, 1]
    assert page_steps([1, 1], by_offset=[True, True]) == [2]


def test_read_steps_take_each_lists_paging_rule():
    vql = ReadLimits(ids_per_query=200, rows_per_page=1000, by_offset=True)
    assert read_steps([[([100], vql)], [([100] * 100, vql)]]) == [1, 1, 1, 9]


def test_per_parent_reads_are_one_query_per_parent_even_when_empty():
    assert level_queries([0, 5, 450], PER_PARENT) == [1, 1, 3]


def test_bulk_reads_group_parents_and_page_their_rows():
    assert level_queries([30] * 250, COQL) == [2, 2, 1]  # 3,000, 3,000 and 1,500 rows
    assert level_queries([], COQL) == []


def test_read_steps_start_with_the_root_and_wait_for_each_level():
    levels = [
        [([40], COQL), ([2], PER_PARENT)],  # the root's contacts and its notes
        [([1] * 40, PER_PARENT)],  # the contacts' notes: one call each
    ]
    assert read_steps(levels) == [1, 2, 40]


def test_the_first_levels_metadata_is_a_step_between_the_root_and_the_first_level():
    levels = [[([40], COQL), ([2], PER_PARENT)], [([1] * 40, PER_PARENT)]]
    assert read_steps(levels, first_described=1) == [1, 1, 2, 40]
    assert read_steps(levels, first_described=7) == [1, 7, 2, 40]  # many objects: more than one round
    assert read_steps([], first_described=3) == [1], "no related list read: no metadata waited for"


def test_write_steps_overlap_the_modules_of_a_wave():
    steps = write_steps([{"Contacts": 150, "Deals": 50}, {"Notes": 10}], batch_size=100, updates=101)
    assert steps == [1, 3, 1, 2]


def test_a_bulk_clones_holder_queries_wait_for_the_objects_metadata_and_its_clones_go_beside_it():
    from bench.latency_bounds import clone_steps

    plan, run = clone_steps(5000, batch_size=500)
    assert plan == [1 + 1 + 5, 5]  # metadata, first record, names; then the new names' holders
    assert run == [1 + 10]  # the metadata and the clones, 500 a call, at once (on the plan's fields)
    assert lower_bound(plan, concurrency=5, latency=0.2) == pytest.approx(3 * 0.2)
    assert lower_bound(run, concurrency=5, latency=0.2) == pytest.approx(3 * 0.2)
