import pytest

# Each area keeps its fixtures in its own module so that parallel work does not collide here.
pytest_plugins = [
    "tests.fixtures.redis",
    "tests.fixtures.sandbox",
    "tests.fixtures.connectors",
    "tests.fixtures.engine",
    "tests.fixtures.web",
]


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
