from records.ops.embedded_redis import EmbeddedRedis


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
