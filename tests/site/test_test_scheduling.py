"""How xdist hands out the tests (tests/conftest.py): the browser tests as one unit, every other
test on its own."""

import pytest

from tests.conftest import pytest_xdist_make_scheduler, scheduling_unit

pytestmark = pytest.mark.nodb


def test_the_browser_tests_are_one_unit_and_every_other_test_its_own():
    unit = scheduling_unit
    assert unit("tests/e2e/test_pages.py::test_job_pages") == unit("tests/e2e/test_jobs.py::test_list[x]")
    assert unit("tests/web/test_jobs.py::test_a") != unit("tests/web/test_jobs.py::test_b")
    assert unit("tests/web/test_jobs.py::test_a") != unit("tests/e2e/test_jobs.py::test_a")


def test_the_scheduler_splits_the_tests_into_those_units(pytestconfig, monkeypatch):
    monkeypatch.setattr(pytestconfig.option, "tx", ["popen"] * 3)  # as `-n 3` sets it on the controller
    scheduler = pytest_xdist_make_scheduler(pytestconfig, None)
    ids = ["tests/e2e/test_pages.py::test_a", "tests/e2e/test_jobs.py::test_b", "tests/web/test_jobs.py::test_c"]
    assert [scheduler._split_scope(i) for i in ids] == [scheduling_unit(i) for i in ids]
