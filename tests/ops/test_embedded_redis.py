from records.ops.embedded_redis import EmbeddedRedis
from tests.fixtures.redis import stop_redis_on


def test_it_starts_on_a_unix_socket_and_stops_cleanly(tmp_path):
    import redis

    server = EmbeddedRedis(socket_path=tmp_path / "r.sock", data_dir=tmp_path).start()
    try:
        conn = redis.Redis.from_url(server.url)
        conn.set("k", "v")
        assert conn.get("k") == b"v"
    finally:
        server.stop()
    assert server.process.returncode == 0
    assert not (tmp_path / "r.sock").exists()


def test_a_redis_left_on_a_socket_is_stopped_by_the_sessions_cleanup(tmp_path):
    """What the test session does at its end with an embedded Redis a command started (and left
    running for a worker, as designed): stopped; a socket with nothing on it is left alone."""
    socket_path = tmp_path / "redis.sock"
    server = EmbeddedRedis(socket_path=socket_path, data_dir=tmp_path / "data").start()
    try:
        assert stop_redis_on(socket_path) is True
        server.process.wait(timeout=10)
        assert not server.ping()
        assert stop_redis_on(socket_path) is False
    finally:
        server.stop()
