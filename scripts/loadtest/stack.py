"""The app the load test starts when it is not given one: the sandbox in its own process, the
database migrated, a user and its sessions (with the previewers' drafts), an embedded Redis, one
worker for copy jobs and one for previews' plans, and the web server."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

from scripts.loadtest.client import LOCKED

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPT = ROOT / "scripts" / "load_job_pages.py"
# What the previewers preview: a deep copy of an account with about 1,000 related records (the
# jobs copy the 2,100 of "Huge Account"), so a plan takes a while at a remote's latency.
PREVIEWED = "Big Account"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_sandbox(latency_ms: float) -> int:
    """Run the sandbox until SIGTERM; print its URLs as one JSON line."""
    from sandbox import Sandbox

    sb = Sandbox.start()
    # Contacts' Email is unique in the demo org: lift that so every repeated copy succeeds.
    for f in sb.zoho.state.modules["Contacts"].fields:
        if f["api_name"] == "Email":
            f["unique"] = {}
    sb.faults("zoho").set(latency=latency_ms / 1000.0)
    print(json.dumps({"zoho_url": sb.zoho_url, "vault_url": sb.vault_url}), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    stop.wait(24 * 3600)
    sb.stop()
    return 0


# -- the app, when the script starts it ----------------------------------------------------------


class Stack:
    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="copier-load-"))
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        self.redis = None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.username, self.password = "loaduser", "load-password-123"
        self.job_codes: list[str] = []

    def env(self, web: bool = False) -> dict:
        env = os.environ.copy()
        env.update(
            COPIER_VAR_DIR=str(self.tmp),
            DEBUG="true",
            ALLOW_LOOPBACK_CONNECTIONS="true",
            DJANGO_SETTINGS_MODULE="copier_site.settings",
            REDIS_URL=f"unix://{self.tmp / 'redis.sock'}",
            LOG_LEVEL="WARNING",
            ALLOWED_HOSTS="127.0.0.1,localhost",
        )
        if web and self.args.log_views:
            # Each request's view, time and queries on the web server's output (scripts/loadtest/timing.py).
            env["DJANGO_SETTINGS_MODULE"] = "scripts.loadtest.timing_settings"
            env["COPIER_VIEW_LOG"] = str(Path(self.args.log_views).resolve())
        return env

    def start(self):
        os.environ.update(self.env())
        import django

        django.setup()
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.core.management import call_command

        from records.models import ConnectionProfile, System
        from records.ops.embedded_redis import EmbeddedRedis
        from sandbox import demo

        self.db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        call_command("migrate", verbosity=0, interactive=False)
        User = get_user_model()
        self.user = User.objects.filter(username=self.username).first() or User(username=self.username)
        self.user.set_password(self.password)
        self.user.save()
        sandbox = self.spawn(
            "sandbox",
            [sys.executable, str(SCRIPT), "--serve-sandbox", "--latency-ms", str(self.args.latency_ms)],
            log=False,
        )
        urls = json.loads(sandbox.stdout.readline())
        self.profile = ConnectionProfile.objects.create(
            name=f"Load Zoho {time.time_ns()}",
            **demo.profile_values(System.ZOHO, urls["zoho_url"]),
            owner=self.user,
            concurrency=4,
        )
        self.redis = EmbeddedRedis(socket_path=self.tmp / "redis.sock", data_dir=self.tmp / "redis").start()
        self.spawn("worker", [sys.executable, "manage.py", "rqworker", "default"])
        # The previews' plans on their own worker, as a deployment runs them: a plan never waits
        # behind a copy, and the copies keep running while previews are read.
        self.spawn("plans-worker", [sys.executable, "manage.py", "rqworker", "plans"])
        if self.args.server == "gunicorn":
            # Production's configuration (gthread, keep-alive, the app preloaded and warmed before
            # the fork); only the address and the numbers of workers and threads are the script's.
            self.spawn(
                "web",
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    "copier_site/gunicorn.conf.py",
                    "-b",
                    f"127.0.0.1:{self.port}",
                    "-w",
                    str(self.args.gunicorn_workers),
                    "--threads",
                    str(self.args.gunicorn_threads),
                ],
                web=True,
            )
        else:
            self.spawn(
                "web",
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload", "--skip-checks"],
                web=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the web server did not start")
        self.account = self._account_id("Huge Account")
        self.previewed = self._account_id(PREVIEWED)

    def _account_id(self, name):
        from records.connectors import connector_for

        page = connector_for(self.profile).search("Accounts", name)
        return next(r.id for r in page.records if r.name == name)

    def sessions(self, n, previewers=0) -> tuple[list[str], list[str]]:
        """n session keys, made the way login() makes them but without n password hashes
        (PBKDF2 at Django's default cost would take most of a minute for 50 users here); the
        first comes through the real login form, to prove that path works. The last
        `previewers` sessions each hold a draft (the wizard's, as its fields step saves it):
        their ids are the second list."""
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore

        keys = [login(self.url, self.username, self.password)]
        for _ in range(n - 1):
            store = SessionStore()
            store[SESSION_KEY] = str(self.user.pk)
            store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            store[HASH_SESSION_KEY] = self.user.get_session_auth_hash()
            store.save()
            keys.append(store.session_key)
        return keys, [self._draft(key, i + 1) for i, key in enumerate(keys[n - previewers :])]

    def _draft(self, session_key: str, n: int) -> str:
        """A deep copy of PREVIEWED in this session's drafts; each previewer names its copy
        differently, so each preview is a plan of its own (one plan per user and request)."""
        from django.contrib.sessions.backends.db import SessionStore

        from records.copying.request import CopyRequest
        from records.models import CopyJob
        from records.web import drafts

        store = SessionStore(session_key=session_key)
        request = CopyRequest(
            profile=self.profile,
            object_name="Accounts",
            source_ids=(str(self.previewed),),
            mode=CopyJob.Mode.DEEP_COPY,
            overrides={"Account_Name": f"{PREVIEWED} (preview {n})"},
        )
        draft_id = drafts.save_draft(SimpleNamespace(session=store), copy_request=request, label=PREVIEWED)
        store.save()
        return draft_id

    def copy_command(self) -> list[str]:
        n = len(self.job_codes) + 1
        return [
            sys.executable,
            "manage.py",
            "copy",
            self.profile.name,
            "Accounts",
            str(self.account),
            "--deep",
            "--set",
            f"Account_Name=Huge Account (load copy {n})",
            "--clear",
            "Account_Number",
            "--user",
            self.username,
            "--json",
        ]

    def new_job_now(self) -> str:
        """Queue a copy job (in a subprocess, as later ones are) and wait for its code."""
        out = subprocess.run(self.copy_command(), cwd=ROOT, env=self.env(), capture_output=True, timeout=300)
        return self._job_code(out.stdout, out.stderr)

    async def new_job(self) -> str:
        proc = await asyncio.create_subprocess_exec(
            *self.copy_command(),
            cwd=ROOT,
            env=self.env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout=300)
        finally:
            if proc.returncode is None:  # the run ended while it planned: it must not outlive the run
                proc.kill()
                await proc.wait()
        return self._job_code(out, err)

    def _job_code(self, out: bytes, err: bytes) -> str:
        try:
            code = json.loads(out)["code"]
        except (ValueError, KeyError):
            raise RuntimeError(f"manage.py copy failed: {err.decode(errors='replace')[-500:]}") from None
        self.job_codes.append(code)
        return code

    def records_done(self) -> int:
        from records.models import CopyJob

        return sum(j.done_count for j in CopyJob.objects.filter(code__in=self.job_codes))

    def spawn(self, name, cmd, log=True, web=False) -> subprocess.Popen:
        if log:
            path = self.tmp / f"{name}.log"
            self.logs.append(path)
            with open(path, "wb") as fh:
                proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env(web), stdout=fh, stderr=subprocess.STDOUT)
        else:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env(), stdout=subprocess.PIPE)
        self.procs.append(proc)
        return proc

    def locked_in_logs(self) -> int:
        return sum(p.read_text(errors="replace").count(LOCKED.decode()) for p in self.logs if p.exists())

    def stop(self):
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.redis:
            self.redis.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def login(base, username, password) -> str:
    """Log in through the form; return the session key."""
    import requests

    s = requests.Session()
    s.trust_env = False
    page = s.get(f"{base}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    r = s.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token.group(1) if token else ""},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=30,
        allow_redirects=False,
    )
    if r.status_code != 302:
        raise RuntimeError(f"login failed ({r.status_code})")
    return r.cookies.get("sessionid") or s.cookies.get("sessionid")
