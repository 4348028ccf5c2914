#!/usr/bin/env python
"""Load test of the job pages (issue 7, point 6): 50 logged-in users poll a job page and its
progress JSON while a ~2,000-record copy job runs; prints p50/p95 latency, errors and whether
any "database is locked" occurred.

    .venv/bin/python scripts/load_job_pages.py                 # SQLite dev mode, 120 s
    .venv/bin/python scripts/load_job_pages.py --seconds 45
    DATABASE_URL=postgres://postgres@127.0.0.1:5433/copier_load .venv/bin/python scripts/load_job_pages.py
    .venv/bin/python scripts/load_job_pages.py --url http://127.0.0.1:8000 --username u --password p --job CODE

Without --url it starts everything itself in a temporary directory (COPIER_VAR_DIR): migrations,
a user, the sandbox (in this process, --latency-ms per call), an embedded Redis, one
`manage.py rqworker` and the web server (`runserver`, or gunicorn with --server gunicorn), then
queues a Zoho deep copy of "Huge Account" (2,101 records) and queues another when one finishes
before the time is up. With DATABASE_URL set it uses that database (migrated; meant to be a
throwaway one) instead of a temporary SQLite file. Loopback addresses only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LOCKED = "database is locked"
MAX_JOBS = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=120.0, help="how long the users poll (default 120)")
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--think", type=float, default=1.0, help="pause between one user's polls (s, default 1)")
    p.add_argument("--page-every", type=int, default=1,
                   help="load the full job page every N polls (default 1: page and progress.json each poll; "
                        "the browser's job.js polls progress.json every second and loads the page once)")
    p.add_argument("--latency-ms", type=float, default=20.0, help="sandbox latency per call while the job runs")
    p.add_argument("--server", choices=["runserver", "gunicorn"], default="runserver")
    p.add_argument("--url", help="an app that is already running (then also --username/--password/--job)")
    p.add_argument("--username")
    p.add_argument("--password")
    p.add_argument("--job", help="the code (uuid) of the job whose page is polled")
    args = p.parse_args()
    if args.url:
        host = urlsplit(args.url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            p.error("--url must be a loopback address")
        if not (args.username and args.password and args.job):
            p.error("--url needs --username, --password and --job")
    args.seconds = max(1.0, min(args.seconds, 3600.0))
    args.users = max(1, min(args.users, 500))
    return args


# -- the app, when the script starts it ----------------------------------------------------------


class Stack:
    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="copier-load-"))
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        self.sb = self.redis = None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.username, self.password = "loaduser", "load-password-123"
        self.jobs = []

    def env(self) -> dict:
        env = os.environ.copy()
        env.update(COPIER_VAR_DIR=str(self.tmp), DEBUG="true", ALLOW_LOOPBACK_CONNECTIONS="true",
                   DJANGO_SETTINGS_MODULE="copier_site.settings", REDIS_URL=f"unix://{self.tmp / 'redis.sock'}",
                   LOG_LEVEL="WARNING", ALLOWED_HOSTS="127.0.0.1,localhost")
        return env

    def start(self):
        os.environ.update(self.env())
        import django

        django.setup()
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.core.management import call_command

        from records.embedded_redis import EmbeddedRedis
        from records.models import ConnectionProfile, System
        from sandbox import Sandbox, demo

        self.db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        call_command("migrate", verbosity=0, interactive=False)
        User = get_user_model()
        self.user = User.objects.filter(username=self.username).first() or User(username=self.username)
        self.user.set_password(self.password)
        self.user.save()
        self.sb = Sandbox.start()
        self.profile = ConnectionProfile.objects.create(
            name=f"Load Zoho {time.time_ns()}", system=System.ZOHO, base_url=self.sb.zoho_url,
            accounts_url=self.sb.zoho_url, username=demo.ZOHO_CLIENT_ID, secret=demo.ZOHO_CLIENT_SECRET,
            refresh_token=demo.ZOHO_REFRESH_TOKEN, owner=self.user, concurrency=4)
        self.redis = EmbeddedRedis(socket_path=self.tmp / "redis.sock", data_dir=self.tmp / "redis").start()
        self.spawn("worker", [sys.executable, "manage.py", "rqworker", "default"])
        if self.args.server == "gunicorn":
            self.spawn("web", [sys.executable, "-m", "gunicorn", "copier_site.wsgi", "-b", f"127.0.0.1:{self.port}",
                               "-w", "2", "--threads", "8", "--access-logfile", "-"])
        else:
            self.spawn("web", [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload",
                               "--skip-checks"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the web server did not start")
        self.account = self._account_id()
        self.sb.faults("zoho").set(latency=self.args.latency_ms / 1000.0)

    def _account_id(self):
        from records.connectors import connector_for

        page = connector_for(self.profile).search("Accounts", "Huge Account")
        return next(r.id for r in page.records if r.name == "Huge Account")

    def sessions(self, n):
        """n logged-in sessions, made the way login() makes them but without n password hashes
        (PBKDF2 at Django's default cost would take most of a minute for 50 users here)."""
        import requests
        from django.conf import settings
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore

        out = []
        for _ in range(n):
            store = SessionStore()
            store[SESSION_KEY] = str(self.user.pk)
            store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            store[HASH_SESSION_KEY] = self.user.get_session_auth_hash()
            store.save()
            s = requests.Session()
            s.trust_env = False
            s.cookies.set(settings.SESSION_COOKIE_NAME, store.session_key, domain="127.0.0.1", path="/")
            out.append(s)
        # One real login through the form, to prove the path works.
        out[0] = login(self.url, self.username, self.password)
        return out

    def new_job(self):
        from records.copying.services import copy_job_create

        # Contacts' Email is unique in the demo org: lift that in the emulator so the copy succeeds.
        for f in self.sb.zoho.state.modules["Contacts"].fields:
            if f["api_name"] == "Email":
                f["unique"] = {}
        n = len(self.jobs) + 1
        job = copy_job_create(profile=self.profile, object_name="Accounts", source_ids=[self.account],
                              mode="deep_copy", user=self.user,
                              overrides={"Account_Name": f"Huge Account (load copy {n})", "Account_Number": None})
        self.jobs.append(job)
        return job

    def job_finished(self, job) -> bool:
        job.refresh_from_db()
        return job.is_finished

    def spawn(self, name, cmd):
        log = self.tmp / f"{name}.log"
        self.logs.append(log)
        with open(log, "wb") as fh:
            self.procs.append(subprocess.Popen(cmd, cwd=ROOT, env=self.env(), stdout=fh, stderr=subprocess.STDOUT))

    def locked_in_logs(self) -> int:
        return sum(p.read_text(errors="replace").count(LOCKED) for p in self.logs if p.exists())

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
        if self.sb:
            self.sb.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


# -- the users -------------------------------------------------------------------------------------


def login(base, username, password):
    import requests

    s = requests.Session()
    s.trust_env = False
    page = s.get(f"{base}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    r = s.post(f"{base}/accounts/login/", data={"username": username, "password": password,
                                                 "csrfmiddlewaretoken": token.group(1) if token else ""},
               headers={"Referer": f"{base}/accounts/login/"}, timeout=30, allow_redirects=False)
    if r.status_code != 302:
        raise RuntimeError(f"login failed ({r.status_code})")
    return s


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.times = {"page": [], "progress": []}
        self.errors: list[str] = []
        self.locked = 0

    def add(self, kind, seconds, error="", locked=False):
        with self.lock:
            self.times[kind].append(seconds)
            if error:
                self.errors.append(error)
            self.locked += locked


def user_loop(session, base, code_ref, stop_at, think, stats, page_every=1):
    import requests

    n = 0
    while time.monotonic() < stop_at and n < 100_000:
        n += 1
        code = code_ref[0]
        targets = [("progress", f"/jobs/{code}/progress.json")]
        if (n - 1) % page_every == 0:
            targets.insert(0, ("page", f"/jobs/{code}/"))
        for kind, path in targets:
            t0 = time.perf_counter()
            try:
                r = session.get(base + path, timeout=30, allow_redirects=False)
                dt = time.perf_counter() - t0
                bad = r.status_code != 200
                locked = LOCKED in r.text
                stats.add(kind, dt, f"{kind} {r.status_code}" if bad else "", locked)
            except requests.RequestException as exc:
                stats.add(kind, time.perf_counter() - t0, f"{kind} {type(exc).__name__}")
        time.sleep(think)


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def main():
    args = parse_args()
    stack = None
    if args.url:
        base, username, password, code = args.url.rstrip("/"), args.username, args.password, args.job
        db = "given app"
    else:
        stack = Stack(args)
    try:
        if stack:
            stack.start()
            base = stack.url
            db = stack.db
            print(f"[load] {args.users} logged-in sessions at {base} ...", file=sys.stderr, flush=True)
            sessions = stack.sessions(args.users)
            code = str(stack.new_job().code)
        else:
            print(f"[load] logging in {args.users} users at {base} ...", file=sys.stderr, flush=True)
            sessions = [login(base, username, password) for _ in range(args.users)]
        stats = Stats()
        code_ref = [code]
        stop_at = time.monotonic() + args.seconds
        threads = [threading.Thread(target=user_loop, args=(s, base, code_ref, stop_at, args.think, stats, max(1, args.page_every)), daemon=True)
                   for s in sessions]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        records_done = 0
        while time.monotonic() < stop_at:
            time.sleep(0.5)
            if stack and stack.job_finished(stack.jobs[-1]) and len(stack.jobs) < MAX_JOBS:
                records_done += stack.jobs[-1].done_count
                print(f"[load] job {len(stack.jobs)} {stack.jobs[-1].status} after "
                      f"{time.monotonic() - t0:.0f} s; queueing another", file=sys.stderr, flush=True)
                code_ref[0] = str(stack.new_job().code)
        for t in threads:
            t.join(timeout=40)
        elapsed = time.monotonic() - t0
        if stack:
            stack.jobs[-1].refresh_from_db()
            records_done += stack.jobs[-1].done_count
        all_times = stats.times["page"] + stats.times["progress"]
        locked_logs = stack.locked_in_logs() if stack else 0
        print()
        print(f"Job page load: {args.users} users, {elapsed:.0f} s, database {db}, server {args.server if stack else 'given'}, "
              f"think {args.think:g} s, page every {args.page_every} poll(s)")
        if stack:
            print(f"copy jobs during the run: {len(stack.jobs)} (Zoho deep copy of Huge Account, 2,101 records each), "
                  f"{records_done:,} result rows written, sandbox latency {args.latency_ms:g} ms")
        print(f"{'endpoint':<14}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
        for kind, values in (("job page", stats.times["page"]), ("progress.json", stats.times["progress"]),
                             ("all", all_times)):
            print(f"{kind:<14}{len(values):>9}{pct(values, 50) * 1000:>9.0f}{pct(values, 95) * 1000:>9.0f}"
                  f"{(max(values) if values else 0) * 1000:>9.0f}")
        print(f"throughput: {len(all_times) / elapsed:.0f} requests/s")
        print(f"errors: {len(stats.errors)}" + (f" ({', '.join(sorted(set(stats.errors))[:5])})" if stats.errors else ""))
        locked = stats.locked + locked_logs
        print(f"'database is locked': {'YES' if locked else 'no'} ({stats.locked} in responses, {locked_logs} in server/worker logs)")
        p95 = pct(all_times, 95) * 1000
        ok = p95 < 300 and not stats.errors and not locked
        print(f"target p95 < 300 ms and zero errors: {'PASS' if ok else 'FAIL'}")
        return 0 if ok else 1
    finally:
        if stack:
            stack.stop()


if __name__ == "__main__":
    sys.exit(main())
