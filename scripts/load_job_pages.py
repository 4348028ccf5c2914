#!/usr/bin/env python
"""Load test of the job pages: 50 logged-in users follow a job page while a
~2,000-record copy job runs; prints p50/p95 latency, errors and whether any "database is locked"
occurred.

    .venv/bin/python scripts/load_job_pages.py                 # SQLite dev mode, 120 s, gunicorn
    .venv/bin/python scripts/load_job_pages.py --seconds 45 --server runserver
    .venv/bin/python scripts/load_job_pages.py --model poll-page   # page + JSON every second
    DATABASE_URL=postgres://postgres@127.0.0.1:55432/copier_load .venv/bin/python scripts/load_job_pages.py
    .venv/bin/python scripts/load_job_pages.py --url http://127.0.0.1:8000 --username u --password p --job CODE

User models (--model):
  browser    (default) what a browser with the job page open does: load the page once, then
             static/records/job.js polls the live part (jobs/<code>/live/) every second (the next poll a second after
             the answer), revalidating with If-None-Match as the browser's HTTP cache does,  until
             the part says the job has ended. A user opens the next job's page when one
             is queued.
  poll-page  the heavier model: GET the page (every --page-every polls) and the live part each
             poll, without conditional requests: as if every user pressed reload every second.

Without --url it starts everything itself in a temporary directory (COPIER_VAR_DIR): migrations,
a user, the sandbox in its own process (--latency-ms per call), an embedded Redis, one
`manage.py rqworker` and the web server (gunicorn, 2 workers x 4 threads, or `runserver`), then
queues a Zoho deep copy of "Huge Account" (2,101 records) with `manage.py copy`, and queues
another when one finishes before the time is up. With DATABASE_URL set it uses that database
(migrated; meant to be a throwaway one) instead of a temporary SQLite file.

The users are asyncio tasks on keep-alive HTTP/1.1 connections in one thread, and the sandbox and
job creation run in other processes: on a 2-CPU machine the load generator shares the CPUs with
the server, the worker and the sandbox, so it must cost little and must not hold the GIL while
a response it is timing waits to be read. Loopback addresses only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
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
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LOCKED = b"database is locked"
MAX_JOBS = 30
MAX_REQUESTS_PER_USER = 100_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=120.0, help="how long the users poll (default 120)")
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--think", type=float, default=1.0, help="pause between one user's polls (s, default 1)")
    p.add_argument("--model", choices=["browser", "poll-page"], default="browser", help="see above")
    p.add_argument("--page-every", type=int, default=1, help="poll-page model: load the page every N polls")
    # A remote CRM answers in a few hundred ms (an insert of 100 records often takes longer): at
    # 20 ms the 2,101-record job is over in seconds and the users mostly watch finished pages.
    p.add_argument(
        "--latency-ms", type=float, default=250.0, help="sandbox latency per call while the job runs (default 250)"
    )
    p.add_argument("--server", choices=["gunicorn", "runserver"], default="gunicorn")
    p.add_argument("--gunicorn-workers", type=int, default=2)
    p.add_argument("--gunicorn-threads", type=int, default=4)
    p.add_argument("--url", help="an app that is already running (then also --username/--password/--job)")
    p.add_argument("--username")
    p.add_argument("--password")
    p.add_argument("--job", help="the code (uuid) of the job whose page is polled")
    p.add_argument("--serve-sandbox", action="store_true", help=argparse.SUPPRESS)  # the sandbox process
    args = p.parse_args(argv)
    if args.url:
        host = urlsplit(args.url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            p.error("--url must be a loopback address")
        if not (args.username and args.password and args.job):
            p.error("--url needs --username, --password and --job")
    args.seconds = max(1.0, min(args.seconds, 3600.0))
    args.users = max(1, min(args.users, 500))
    args.page_every = max(1, args.page_every)
    return args


# -- the sandbox, in its own process ------------------------------------------------------------


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

    def env(self) -> dict:
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
            [sys.executable, __file__, "--serve-sandbox", "--latency-ms", str(self.args.latency_ms)],
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
        if self.args.server == "gunicorn":
            # gthread workers keep each user's connection alive between polls (sync workers close it).
            self.spawn(
                "web",
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "copier_site.wsgi",
                    "-b",
                    f"127.0.0.1:{self.port}",
                    "-k",
                    "gthread",
                    "-w",
                    str(self.args.gunicorn_workers),
                    "--threads",
                    str(self.args.gunicorn_threads),
                    "--keep-alive",
                    "5",
                ],
            )
        else:
            self.spawn(
                "web",
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload", "--skip-checks"],
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
        self.account = self._account_id()

    def _account_id(self):
        from records.connectors import connector_for

        page = connector_for(self.profile).search("Accounts", "Huge Account")
        return next(r.id for r in page.records if r.name == "Huge Account")

    def sessions(self, n) -> list[str]:
        """n session keys, made the way login() makes them but without n password hashes
        (PBKDF2 at Django's default cost would take most of a minute for 50 users here); the
        first comes through the real login form, to prove that path works."""
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
        return keys

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
        out, err = await asyncio.wait_for(proc.communicate(), timeout=300)
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

    def spawn(self, name, cmd, log=True) -> subprocess.Popen:
        if log:
            path = self.tmp / f"{name}.log"
            self.logs.append(path)
            with open(path, "wb") as fh:
                proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env(), stdout=fh, stderr=subprocess.STDOUT)
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


# -- the users: a small keep-alive HTTP/1.1 client on asyncio --------------------------------------


class Connection:
    """One user's keep-alive connection: GET only, Content-Length or chunked bodies."""

    def __init__(self, host: str, port: int, cookie: str):
        self.host, self.port, self.cookie = host, port, cookie
        self.reader = self.writer = None

    async def get(self, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
        for attempt in (1, 2):
            reused = self.writer is not None
            if not reused:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            try:
                return await self._exchange(path, headers or {})
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                # A server may close an idle keep-alive connection just as we reuse it: retry once.
                if not reused or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, path, headers) -> tuple[int, dict, bytes]:
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Cookie: sessionid={self.cookie}",
            "Connection: keep-alive",
        ] + [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("closed before the answer")
        status = int(status_line.split()[1])
        head = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            head[name.strip().lower()] = value.strip()
        if status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "content-length" in head:
            body = await self.reader.readexactly(int(head["content-length"]))
        elif head.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked()
        else:
            body = await self.reader.read()
            head["connection"] = "close"
        if head.get("connection", "").lower() == "close":
            self.close()
        return status, head, body

    async def _chunked(self) -> bytes:
        parts = []
        while size := int((await self.reader.readline()).split(b";")[0], 16):
            parts.append(await self.reader.readexactly(size))
            await self.reader.readline()
        while (await self.reader.readline()) not in (b"\r\n", b""):
            pass
        return b"".join(parts)

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Stats:
    def __init__(self):
        self.times = {"page": [], "progress": []}
        self.not_modified = 0
        self.errors: list[str] = []
        self.locked = 0

    async def fetch(self, conn: Connection, kind: str, path: str, headers=None):
        t0 = time.perf_counter()
        try:
            status, head, body = await asyncio.wait_for(conn.get(path, headers), timeout=30)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            conn.close()
            self.times[kind].append(time.perf_counter() - t0)
            self.errors.append(f"{kind} {type(exc).__name__}")
            return None, {}, b""
        self.times[kind].append(time.perf_counter() - t0)
        self.not_modified += status == 304
        if status not in (200, 304):
            self.errors.append(f"{kind} {status}")
        self.locked += LOCKED in body
        return status, head, body


async def browser_user(conn, stats, code_ref, stop_at, think):
    """A browser with the job page open (see the module doc)."""
    await asyncio.sleep(random.uniform(0, think))  # people don't all open the page in the same ms
    current, etag, finished, n = None, None, False, 0
    while time.monotonic() < stop_at and n < MAX_REQUESTS_PER_USER:
        n += 1
        if code_ref[0] != current:  # a new job: open its page
            current, etag, finished = code_ref[0], None, False
            await stats.fetch(conn, "page", f"/jobs/{current}/")
        elif not finished:
            status, head, body = await stats.fetch(
                conn, "progress", f"/jobs/{current}/live/", {"If-None-Match": etag} if etag else None
            )
            if status == 200:
                etag = head.get("etag")
                if b'data-finished="true"' in body:
                    finished = True  # the last live part is the finished page's: job.js then only reads its rows
        await asyncio.sleep(think)


async def poll_page_user(conn, stats, code_ref, stop_at, think, page_every):
    """The heavy model: the page (every page_every polls) and the live part each poll."""
    await asyncio.sleep(random.uniform(0, think))
    n = 0
    while time.monotonic() < stop_at and n < MAX_REQUESTS_PER_USER:
        code = code_ref[0]
        if n % page_every == 0:
            await stats.fetch(conn, "page", f"/jobs/{code}/")
        await stats.fetch(conn, "progress", f"/jobs/{code}/live/")
        n += 1
        await asyncio.sleep(think)


async def follow_jobs(stack, conn, code_ref, stop_at, t0):
    """Queue the next job when the current one ends (the users then open its page).

    Not planned ahead on purpose: planning reads the whole tree, and doing it during the run would
    put a second copy's CPU on the same two cores as the pages being measured."""
    while time.monotonic() < stop_at and len(stack.job_codes) < MAX_JOBS:
        await asyncio.sleep(0.5)
        status, _, body = await conn.get(f"/jobs/{code_ref[0]}/live/")
        if status == 200 and b'data-finished="true"' in body:
            print(
                f"[load] job {len(stack.job_codes)} ended after {time.monotonic() - t0:.0f} s; queueing another",
                file=sys.stderr,
                flush=True,
            )
            code_ref[0] = await stack.new_job()


async def run_users(args, base, cookies, code, stack) -> tuple[Stats, float]:
    host, port = urlsplit(base).hostname, urlsplit(base).port or 80
    stats, code_ref = Stats(), [code]
    t0 = time.monotonic()
    stop_at = t0 + args.seconds
    conns = [Connection(host, port, c) for c in cookies]
    if args.model == "browser":
        users = [browser_user(c, stats, code_ref, stop_at, args.think) for c in conns]
    else:
        users = [poll_page_user(c, stats, code_ref, stop_at, args.think, args.page_every) for c in conns]
    tasks = [asyncio.ensure_future(u) for u in users]
    if stack:
        tasks.append(
            asyncio.ensure_future(follow_jobs(stack, Connection(host, port, cookies[0]), code_ref, stop_at, t0))
        )
    await asyncio.wait(tasks, timeout=args.seconds + 60)
    for task in tasks:
        task.cancel()
    for c in conns:
        c.close()
    return stats, time.monotonic() - t0


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def report(args, stats, elapsed, db, server, stack) -> int:
    all_times = stats.times["page"] + stats.times["progress"]
    locked_logs = stack.locked_in_logs() if stack else 0
    model = (
        "browser (page once, the live part every second with If-None-Match)"
        if args.model == "browser"
        else f"poll-page (page every {args.page_every} poll(s) + the live part)"
    )
    print()
    print(
        f"Job page load: {args.users} users, {elapsed:.0f} s, database {db}, server {server}, "
        f"think {args.think:g} s, model {model}"
    )
    if stack:
        print(
            f"copy jobs during the run: {len(stack.job_codes)} (Zoho deep copy of Huge Account, 2,101 records each), "
            f"{stack.records_done():,} result rows written, sandbox latency {args.latency_ms:g} ms"
        )
    print(f"{'endpoint':<14}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for kind, values in (
        ("job page", stats.times["page"]),
        ("live part", stats.times["progress"]),
        ("all", all_times),
    ):
        print(
            f"{kind:<14}{len(values):>9}{pct(values, 50) * 1000:>9.0f}{pct(values, 95) * 1000:>9.0f}"
            f"{(max(values) if values else 0) * 1000:>9.0f}"
        )
    print(f"throughput: {len(all_times) / elapsed:.0f} requests/s; 304 Not Modified: {stats.not_modified}")
    print(f"errors: {len(stats.errors)}" + (f" ({', '.join(sorted(set(stats.errors))[:5])})" if stats.errors else ""))
    locked = stats.locked + locked_logs
    print(
        f"'database is locked': {'YES' if locked else 'no'} ({stats.locked} in responses, {locked_logs} in server/worker logs)"
    )
    p95 = pct(all_times, 95) * 1000
    ok = p95 < 300 and not stats.errors and not locked
    print(f"target p95 < 300 ms and zero errors: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def main(argv=None):
    args = parse_args(argv)
    if args.serve_sandbox:
        return serve_sandbox(args.latency_ms)
    stack = None if args.url else Stack(args)
    try:
        if stack:
            stack.start()
            base, db, server = stack.url, stack.db, args.server
            print(f"[load] {args.users} logged-in sessions at {base} ...", file=sys.stderr, flush=True)
            cookies = stack.sessions(args.users)
            code = stack.new_job_now()
        else:
            base, db, server, code = args.url.rstrip("/"), "given app", "given", args.job
            print(f"[load] logging in {args.users} users at {base} ...", file=sys.stderr, flush=True)
            cookies = [login(base, args.username, args.password) for _ in range(args.users)]
        stats, elapsed = asyncio.run(run_users(args, base, cookies, code, stack))
        return report(args, stats, elapsed, db, server, stack)
    finally:
        if stack:
            stack.stop()


if __name__ == "__main__":
    sys.exit(main())
