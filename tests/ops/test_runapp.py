"""The run command for real: `manage.py runapp` (what ./scripts/run starts) serves a login page a
person can log in to, with a worker registered in Redis, and Ctrl-C stops every child."""

import os
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from records.ops.embedded_redis import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _processes_with(marker: str) -> list[int]:
    """Pids whose environment holds `marker` (our unique COPIER_VAR_DIR)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


class Output:
    def __init__(self, stream):
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 90) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            self.seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"{pattern!r} not printed; output so far:\n{''.join(self.seen)}")


@pytest.fixture
def running_app(tmp_path):
    var = tmp_path / "var"
    port = free_port()
    env = {**os.environ, "COPIER_VAR_DIR": str(var), "DEBUG": "true", "ALLOW_LOOPBACK_CONNECTIONS": "true"}
    for name in ("REDIS_URL", "DATABASE_URL", "DEMO_PASSWORD", "ADMIN_PASSWORD", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    args = [
        sys.executable,
        "manage.py",
        "runapp",
        "--port",
        str(port),
        "--vault-port",
        str(free_port()),
        "--zoho-port",
        str(free_port()),
        "--target-vault-port",
        str(free_port()),
        "--target-zoho-port",
        str(free_port()),
    ]
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = Output(process.stdout)
    yield process, output, f"http://127.0.0.1:{port}", var
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    for pid in _processes_with(f"COPIER_VAR_DIR={var}"):
        os.kill(pid, signal.SIGKILL)


def test_run_command_serves_a_login_with_a_worker_and_stops_cleanly(running_app):
    import redis
    from rq import Worker

    process, output, url, var = running_app
    password = output.wait_for(r"demo login:\s+demo / (\S+)").group(1)
    output.wait_for(r"Press Ctrl-C")

    session = requests.Session()
    login_page = session.get(f"{url}/accounts/login/", timeout=10)
    assert login_page.status_code == 200 and 'name="password"' in login_page.text
    response = session.post(
        f"{url}/accounts/login/",
        data={"username": "demo", "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.url == f"{url}/", "the login did not go through"
    assert "demo" in response.text

    connection = redis.Redis(unix_socket_path=str(var / "redis.sock"))
    deadline = time.monotonic() + 30
    while len(Worker.all(connection=connection)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    # One worker for previews and copies, one for previews only (a preview never waits behind a copy).
    queues = sorted(tuple(q.name for q in w.queues) for w in Worker.all(connection=connection))
    assert queues == [("plans",), ("plans", "default")]
    connection.close()

    with sqlite3.connect(var / "db.sqlite3") as db:
        names = {row[0] for row in db.execute("select name from records_connectionprofile")}
        staff = db.execute("select is_staff from auth_user where username = 'admin'").fetchone()
    assert names == {"Demo Vault", "Demo Zoho", "Demo Vault UAT", "Demo Zoho Training"}
    with sqlite3.connect(var / "db.sqlite3") as db:
        protected = dict(db.execute("select name, protected from records_connectionprofile"))
    assert protected["Demo Zoho Training"] == 1 and protected["Demo Vault UAT"] == 0
    assert staff == (1,)

    # redis-server rewrites its environment block (its process title), so it is checked by socket.
    children = _processes_with(f"COPIER_VAR_DIR={var}")
    assert len(children) >= 4, "runapp, sandbox, worker, web"
    redis_pids = subprocess.run(["pgrep", "-f", str(var / "redis.sock")], capture_output=True, text=True).stdout.split()
    assert len(redis_pids) == 1

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    output.wait_for(r"Stopped\.", timeout=5)
    assert _processes_with(f"COPIER_VAR_DIR={var}") == []
    assert not (var / "redis.sock").exists()
    assert subprocess.run(["pgrep", "-f", str(var / "redis.sock")], capture_output=True).stdout == b""
