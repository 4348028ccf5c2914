"""/health (records/ops/health.py): ready names Redis when it is down (503), ok with the database
and Redis up, never cached; live answers without asking either."""

import pytest

from records.ops.embedded_redis import free_port

pytestmark = pytest.mark.django_db


def test_health_names_redis_when_it_is_down(client, settings):
    settings.RQ_QUEUES = {"default": {"URL": f"redis://127.0.0.1:{free_port()}/0", "DEFAULT_TIMEOUT": 60}}
    for url in ("/health/", "/health/ready/"):
        response = client.get(url)
        assert response.status_code == 503, url
        assert response.json() == {"status": "fail", "checks": {"database": "ok", "redis": "fail"}}
    assert client.get("/health/live/").json() == {"status": "ok"}


def test_health_is_ok_with_database_and_redis_up(client, redis_url):
    for url in ("/health/", "/health/ready/"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
    assert "no-store" in response["Cache-Control"]  # a balancer must see the state of now


def test_health_answers_without_a_trailing_slash(client, redis_url):
    """The README writes /health/live and /health/ready; a balancer does not follow a 301."""
    assert client.get("/health/live").json() == {"status": "ok"}
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
