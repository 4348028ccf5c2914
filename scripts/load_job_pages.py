#!/usr/bin/env python
"""Load test of the web while copy jobs run and previews are planned: 50 logged-in users, most
following a job page while a ~2,000-record copy job runs, some with a preview open whose plan is
read on a worker; prints p50/p95/max per page, errors and whether any "database is locked"
occurred. Pass: p95 < 300 ms for every page, no error, no lock.

    .venv/bin/python scripts/load_job_pages.py                 # SQLite dev mode, 120 s, gunicorn
    .venv/bin/python scripts/load_job_pages.py --seconds 45 --server runserver
    .venv/bin/python scripts/load_job_pages.py --model poll-page   # page + live part every second
    .venv/bin/python scripts/load_job_pages.py --log-views /tmp/views.jsonl   # the server's time per view
    DATABASE_URL=postgres://postgres@127.0.0.1:55433/copier_load .venv/bin/python scripts/load_job_pages.py
    .venv/bin/python scripts/load_job_pages.py --url http://127.0.0.1:8000 --username u --password p --job CODE

Users (scripts/loadtest/users.py): --previewers of the --users (default 10 of 50) have a preview
of a deep copy of "Big Account" (~1,020 related records) open: the page, then plan.json as
static/records/plan-poll.js asks it (every second while its count moves, backing off to 5 s when
it does not) while the plan is read on the `plans` worker, the ready page, and after 5-15 s "read
again". The others follow the job pages (--model):
  browser    (default) what a browser with the job page open does: load the page once, then
             static/records/job.js polls the live part (jobs/<code>/live/) with If-None-Match,
             the next poll a second after a changed answer and 1.5x longer after each 304 (up to
             5 s), as job.js does, and fetches the table's rows when the part's version moves, until
             the job has ended; then one in five downloads results.csv and one in three opens the
             jobs list. A user opens the next job's page when one is queued.
  poll-page  the heavier model: GET the page (every --page-every polls) and the live part each
             poll, without conditional requests: as if every user pressed reload every second.

Without --url it starts everything itself in a temporary directory (COPIER_VAR_DIR), see
scripts/loadtest/stack.py: migrations, a user, the sandbox in its own process (--latency-ms per
call), an embedded Redis, a `manage.py rqworker default` and a `rqworker plans`, and the web
server (gunicorn with production's copier_site/gunicorn.conf.py, --gunicorn-workers x
--gunicorn-threads, or `runserver`), then queues a Zoho
deep copy of "Huge Account" (2,101 records) with `manage.py copy`, and queues another when one
finishes before the time is up. With DATABASE_URL set it uses that database (migrated; meant to
be a throwaway one) instead of a temporary SQLite file. With --url there are no previewers.

The users are asyncio tasks on keep-alive HTTP/1.1 connections in one thread, and the sandbox and
job creation run in other processes: on a 2-CPU machine the load generator shares the CPUs with
the server, the workers and the sandbox, so it must cost little and must not hold the GIL while
a response it is timing waits to be read. Loopback addresses only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.loadtest import report as reports  # noqa: E402
from scripts.loadtest.client import Connection, Stats, pct  # noqa: E402
from scripts.loadtest.stack import Stack, login, serve_sandbox  # noqa: E402
from scripts.loadtest.users import browser_user, follow_jobs, poll_page_user, previewer  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=120.0, help="how long the users poll (default 120)")
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--think", type=float, default=1.0, help="pause between one user's polls (s, default 1)")
    p.add_argument("--previewers", type=int, default=10, help="of the users, how many have a preview open (10)")
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
    p.add_argument("--log-views", metavar="FILE", help="the server logs each view's time and queries here (JSON lines)")
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
    args.previewers = max(0, min(args.previewers, args.users - 1))
    args.page_every = max(1, args.page_every)
    return args


async def run_users(args, base, cookies, drafts, code, stack) -> tuple[Stats, float]:
    host, port = urlsplit(base).hostname, urlsplit(base).port or 80
    stats, code_ref = Stats(), [code]
    t0 = time.monotonic()
    stop_at = t0 + args.seconds
    watchers = [Connection(host, port, c) for c in cookies[: len(cookies) - len(drafts)]]
    previewers = [Connection(host, port, c) for c in cookies[len(cookies) - len(drafts) :]]
    if args.model == "browser":
        users = [browser_user(c, stats, code_ref, stop_at, args.think) for c in watchers]
    else:
        users = [poll_page_user(c, stats, code_ref, stop_at, args.think, args.page_every) for c in watchers]
    users += [previewer(c, stats, d, stop_at, args.think) for c, d in zip(previewers, drafts, strict=True)]
    tasks = [asyncio.ensure_future(u) for u in users]
    # The next job's planning may outlast the users: their end ends the run.
    await_users = asyncio.ensure_future(asyncio.wait(list(tasks), timeout=args.seconds + 60))
    if stack:
        tasks.append(
            asyncio.ensure_future(follow_jobs(stack, Connection(host, port, cookies[0]), code_ref, stop_at, t0))
        )
    await await_users
    for task in tasks:
        task.cancel()
    for c in watchers + previewers:
        c.close()
    return stats, time.monotonic() - t0


def report(args, stats, elapsed, db, server, stack) -> int:
    everything = [t for values in stats.times.values() for t in values]
    locked_logs = stack.locked_in_logs() if stack else 0
    model = (
        "browser (page once, the live part with If-None-Match, 1 s, backing off to 5 s while unchanged)"
        if args.model == "browser"
        else f"poll-page (page every {args.page_every} poll(s) + the live part)"
    )
    print()
    print(
        f"Web load: {args.users} users ({args.previewers if stack else 0} with a preview), {elapsed:.0f} s, "
        f"database {db}, server {server}, think {args.think:g} s, model {model}"
    )
    if stack:
        print(
            f"copy jobs during the run: {len(stack.job_codes)} (Zoho deep copy of Huge Account, 2,101 records each), "
            f"{stack.records_done():,} result rows written, sandbox latency {args.latency_ms:g} ms"
        )
    print("\n".join(reports.page_table(stats)))
    print(
        f"all: {len(everything)} requests, p95 {pct(everything, 95) * 1000:.0f} ms, "
        f"{len(everything) / elapsed:.0f} requests/s"
    )
    print(f"errors: {len(stats.errors)}" + (f" ({', '.join(sorted(set(stats.errors))[:5])})" if stats.errors else ""))
    locked = stats.locked + locked_logs
    print(
        f"'database is locked': {'YES' if locked else 'no'} ({stats.locked} in responses, {locked_logs} in server/worker logs)"
    )
    if args.log_views:
        print("\n".join(reports.view_table(args.log_views)))
    slow = reports.slow_pages(stats)
    ok = not slow and not stats.errors and not locked
    verdict = "PASS" if ok else "FAIL" + (f" (p95 of {', '.join(slow)})" if slow else "")
    print(f"target p95 < {reports.TARGET_MS} ms for every page and zero errors: {verdict}")
    return 0 if ok else 1


def main(argv=None):
    args = parse_args(argv)
    if args.serve_sandbox:
        return serve_sandbox(args.latency_ms)
    stack = None if args.url else Stack(args)
    # A SIGTERM (timeout, kill) stops what the script started too, as the end of a run does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        if stack:
            stack.start()
            base, db, server = stack.url, stack.db, args.server
            print(f"[load] {args.users} logged-in sessions at {base} ...", file=sys.stderr, flush=True)
            cookies, drafts = stack.sessions(args.users, args.previewers)
            code = stack.new_job_now()
        else:
            base, db, server, code, drafts = args.url.rstrip("/"), "given app", "given", args.job, []
            print(f"[load] logging in {args.users} users at {base} ...", file=sys.stderr, flush=True)
            cookies = [login(base, args.username, args.password) for _ in range(args.users)]
        stats, elapsed = asyncio.run(run_users(args, base, cookies, drafts, code, stack))
        return report(args, stats, elapsed, db, server, stack)
    finally:
        if stack:
            stack.stop()


if __name__ == "__main__":
    sys.exit(main())
