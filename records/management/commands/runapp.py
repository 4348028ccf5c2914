"""Run the whole app for development: embedded Redis, the sandbox, one RQ worker and the web server.

`./scripts/run` bootstraps the virtualenv and calls this. It migrates, creates the demo logins,
starts each part as a child process in its own process group, and on Ctrl-C (or SIGTERM) stops
them in reverse order: web server, worker, sandbox, Redis last, so a worker never loses its queue
mid-shutdown.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from argparse import ArgumentParser
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from records.models import ConnectionProfile
from records.ops.embedded_redis import EmbeddedRedis
from records.profiles import services as profile_services

DEMO_PROFILES = ("Demo Vault", "Demo Zoho")
# Copies between profiles go to the sandbox's target vault and org; the training org is protected
# (a copy into it waits for another user's approval: admin, a superuser, may approve).
TARGET_PROFILES = {"Demo Vault UAT": ("vault", False), "Demo Zoho Training": ("zoho", True)}


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            command = list(process.args) if isinstance(process.args, list | tuple) else [process.args]
            raise CommandError(f"{command[1:4]} exited with code {process.returncode} while starting.")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise CommandError(f"Nothing listens on port {port} after {timeout:.0f} s.")


def _stored_password(name: str) -> str:
    """A password generated once into var/ and reused, so the printed login stays the same."""
    path = Path(settings.VAR_DIR) / f"{name}_password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


class Command(BaseCommand):
    help = "Run Redis, the sandbox, one RQ worker and the web server until Ctrl-C (development only)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--vault-port", type=int, default=8101, help="sandbox Vault port")
        parser.add_argument("--zoho-port", type=int, default=8102, help="sandbox Zoho port")
        parser.add_argument("--target-vault-port", type=int, default=8103, help="sandbox target Vault port")
        parser.add_argument("--target-zoho-port", type=int, default=8104, help="sandbox target Zoho port")
        parser.add_argument("--no-sandbox", action="store_true", help="don't start the local sandbox")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("runapp is for development: set DEBUG=true (./scripts/run does).")
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.redis: EmbeddedRedis | None = None
        self.stopping = False
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            self.start(**options)
            self.supervise()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop_all()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if not self.stopping:
            raise KeyboardInterrupt

    # -- start-up

    def start(
        self,
        *,
        host: str,
        port: int,
        vault_port: int,
        zoho_port: int,
        no_sandbox: bool,
        target_vault_port: int = 8103,
        target_zoho_port: int = 8104,
        **_: Any,
    ) -> None:
        if not _port_free(port):
            raise CommandError(f"Port {port} is in use; stop what runs there or pass --port.")
        call_command("migrate", interactive=False, verbosity=0)
        demo_pw, admin_pw = self.ensure_logins()

        if "REDIS_URL" not in os.environ:
            self.redis = EmbeddedRedis(socket_path=settings.REDIS_SOCKET, data_dir=Path(settings.VAR_DIR) / "redis")
            self.redis.start()
            self.stdout.write(f"Redis: {self.redis.url}")

        sandbox_note = ""
        if no_sandbox:
            sandbox_note = "sandbox not started (--no-sandbox)"
        elif importlib.util.find_spec("sandbox") is None:
            sandbox_note = "sandbox package not found; demo profiles not created"
        else:
            sandbox_note = self.start_sandbox(vault_port, zoho_port, (target_vault_port, target_zoho_port))

        # plans first, then copies; its scheduler runs the webhooks' retries (RQ Retry waits)
        self.spawn("worker", ["rqworker", "plans", "default", "--with-scheduler"])
        # One worker for previews only: with a copy running on the other, a preview still reads at once.
        self.spawn("plans-worker", ["rqworker", "plans"])
        web = self.spawn("web", ["runserver", f"{host}:{port}", "--noreload", "--skip-checks"])
        _wait_for_port(port, web)

        self.stdout.write(
            "\n"
            f"Record Copier is running at http://{host}:{port}/\n"
            f"  demo login:  demo / {demo_pw}\n"
            f"  admin login: admin / {admin_pw}   (admin pages: http://{host}:{port}/admin/)\n"
            f"  {sandbox_note}\n"
            "Press Ctrl-C to stop the web server, worker, sandbox and Redis.\n"
        )
        self.stdout.flush()

    def ensure_logins(self) -> tuple[str, str]:
        User = get_user_model()
        passwords = []
        for name, staff in (("demo", False), ("admin", True)):
            password = os.environ.get(f"{name.upper()}_PASSWORD") or _stored_password(name)
            user, _ = User.objects.get_or_create(username=name)
            user.is_staff = user.is_superuser = staff
            user.is_active = True
            user.set_password(password)
            user.save()
            passwords.append(password)
        return passwords[0], passwords[1]

    def start_sandbox(self, vault_port: int, zoho_port: int, targets: tuple[int, int]) -> str:
        if not _port_free(vault_port) or not _port_free(zoho_port):
            return f"sandbox ports {vault_port}/{zoho_port} are in use; sandbox not started"
        var = Path(settings.VAR_DIR)
        args = ["-m", "sandbox", "--vault-port", str(vault_port), "--zoho-port", str(zoho_port)]
        args += ["--state", str(var / "sandbox.json")]
        with_targets = all(_port_free(p) for p in targets)
        if with_targets:
            args += ["--target-vault-port", str(targets[0]), "--target-zoho-port", str(targets[1])]
            args += ["--target-state", str(var / "sandbox-target.json")]
        process = self.spawn("sandbox", args, manage=False)
        for listening in (vault_port, zoho_port, *(targets if with_targets else ())):
            _wait_for_port(listening, process)
        urls = [f"http://127.0.0.1:{p}" for p in (vault_port, zoho_port, *targets)]
        try:
            self.ensure_demo_profiles(urls[0], urls[1])
            if with_targets:
                self.ensure_target_profiles(urls[2], urls[3])
        except (ImportError, ValidationError) as exc:
            return f"sandbox running, but the demo profiles could not be set up: {exc}"
        names = [*DEMO_PROFILES, *(TARGET_PROFILES if with_targets else ())]
        return f"sandbox: Vault {urls[0]}, Zoho {urls[1]} (profiles {', '.join(names)} for demo)"

    def ensure_target_profiles(self, vault_url: str, zoho_url: str) -> None:
        """The demo profiles of the target vault and org (copies between profiles)."""
        from sandbox import demo

        user = get_user_model().objects.get(username="demo")
        urls = {"vault": vault_url, "zoho": zoho_url}
        for name, (system, protected) in TARGET_PROFILES.items():
            values: dict[str, Any] = demo.profile_values(system, urls[system])
            existing = ConnectionProfile.objects.filter(name=name).first()
            if existing is None:
                profile_services.profile_create(name=name, owner=user, actor=None, **values)
            else:
                profile_services.profile_update(profile=existing, owner=user, actor=None, **values)
            ConnectionProfile.objects.filter(name=name).update(protected=protected)

    def ensure_demo_profiles(self, vault_url: str, zoho_url: str) -> None:
        # Only here: the sandbox is a development tool; a deployment without it runs the app alone
        # (the caller turns its ImportError into a line of output).
        from sandbox import demo

        user = get_user_model().objects.get(username="demo")
        wanted: dict[str, dict[str, Any]] = {
            "Demo Vault": demo.profile_values("vault", vault_url),
            "Demo Zoho": demo.profile_values("zoho", zoho_url),
        }
        for name, values in wanted.items():
            existing = ConnectionProfile.objects.filter(name=name).first()
            if existing is None:
                profile_services.profile_create(name=name, owner=user, actor=None, **values)
            else:
                profile_services.profile_update(profile=existing, owner=user, actor=None, **values)

    def spawn(self, name: str, args: list[str], *, manage: bool = True) -> subprocess.Popen[bytes]:
        command = [sys.executable, *(["manage.py"] if manage else []), *args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # Its own process group: the terminal's Ctrl-C reaches only this supervisor, which then
        # stops the children in order instead of all of them dying at once.
        # noqa S603: our own interpreter and manage.py with fixed arguments.
        process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, process_group=0)  # noqa: S603
        self.children.append((name, process))
        return process

    # -- running and stopping

    def supervise(self) -> None:
        while True:
            for name, process in self.children:
                if process.poll() is not None:
                    raise CommandError(f"The {name} process exited with code {process.returncode}; stopping.")
            if self.redis and not self.redis.ping():
                raise CommandError("Redis stopped; stopping.")
            time.sleep(0.5)

    def stop_all(self) -> None:
        self.stopping = True
        self.stdout.write("\nStopping…")
        for _name, process in reversed(self.children):
            if process.poll() is None:
                # SIGTERM: runserver exits, the rq worker finishes its current job (warm shutdown).
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        # Anything a child left behind in its group goes too.
        for _name, process in self.children:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.redis:
            self.redis.stop()
        self.stdout.write("Stopped.")
