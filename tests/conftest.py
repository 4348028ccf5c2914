import os
from pathlib import Path

import pytest

# Each area keeps its fixtures in its own module so that parallel work does not collide here.
pytest_plugins = [
    "tests.fixtures.redis",
    "tests.fixtures.sandbox",
    "tests.fixtures.connectors",
    "tests.fixtures.engine",
    "tests.fixtures.web",
    "tests.fixtures.security",
    "tests.fixtures.oidc",
    "tests.fixtures.plans",
    "tests.fixtures.cross",
    "tests.fixtures.api",
]


# Fixtures that give a test the database (pytest-django refuses database access to any other test).
DB_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
    "admin_user",
    "admin_client",
}


def pytest_collection_modifyitems(config, items):
    """Mark `nodb` every test that cannot touch the test database: no django_db marker and no
    database fixture. Such a test runs the same on SQLite and PostgreSQL, so CI runs it on the
    SQLite pass only (`-m "not nodb"` on the PostgreSQL pass). Tests that start processes of the
    app on purpose give them their own SQLite database, not DATABASE_URL.

    Mark `engine_db` the copy engine's tests (tests/copying) that use the database: CI runs them on
    PostgreSQL, the production database, where workers' row locks and conditional updates really
    race; its SQLite pass leaves them out (but for those marked `sqlite`: SQLite's own plans), the
    engine's runs on SQLite being the browser tests' and the benchmark's."""
    copying = Path(__file__).parent / "copying"
    for item in items:
        if item.get_closest_marker("django_db") is None and not DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.nodb)
        elif item.path.is_relative_to(copying):
            item.add_marker(pytest.mark.engine_db)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # Under xdist, hand out the long tests first so that none of them starts last and leaves
        # the other workers idle (every worker collects the same order; the sort is stable).
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.hookimpl(optionalhook=True)  # xdist's hook: no error where xdist is left out (-p no:xdist)
def pytest_xdist_make_scheduler(config, log):
    """xdist's scheduler (the controller's: it hands out tests by their ids): the browser tests one
    after another on one worker, every other test one at a time to whichever worker is free. With
    xdist's default `load` (consecutive chunks), the browser tests came in one chunk late in the
    pass and the other workers sat idle for minutes at its end (SQLite pass, 3 workers, 2 CPUs:
    613 s, two workers done at 390 s). The browser tests are one unit, first (the largest), so the
    pass does not wait on them at its end; apart, several Chromiums at once each took about twice
    as long. (`--dist loadgroup` and its marks would do the same, but xdist 3.8 renames the test
    ids for it by an attribute pytest 9 no longer reads.)"""
    from xdist.scheduler import LoadScopeScheduling

    class BrowserTestsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scheduling_unit(nodeid)

    return BrowserTestsTogether(config, log)


def scheduling_unit(nodeid: str) -> str:
    """The unit xdist hands a test out in: the browser tests' one, or the test's own."""
    return "browser" if nodeid.startswith("tests/e2e/") else nodeid


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice-pass-123")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("bob", password="bob-pass-123")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "charlie", password="charlie-pass-123", is_staff=True, is_superuser=True
    )
