"""What each kind of user does, as asyncio tasks: the job watchers (a browser with the job page
open, or the heavier poll-page model), the previewers (a preview whose plan is read on a
worker) and the task that queues the next copy job when one ends. Every loop is bounded."""

from __future__ import annotations

import asyncio
import random
import re
import sys
import time

MAX_JOBS = 30
MAX_REQUESTS_PER_USER = 100_000
VERSION = re.compile(rb'data-version="([^"]*)"')
ROWS_VERSION = re.compile(rb'data-rows-version="([^"]*)"')
POLL = re.compile(rb'data-plan-poll="([^"]*)"')


def _poll_url(body: bytes) -> str:
    """The address plan-poll.js asks (the page's data-plan-poll: plan.json naming the plan shown)."""
    found = POLL.search(body)
    return found.group(1).decode().replace("&amp;", "&") if found else ""


def _rows_version(body: bytes) -> bytes:
    """What job.js compares to fetch the table's first rows: their digest, else the version."""
    found = ROWS_VERSION.search(body)
    return found.group(1) if found else _version(body)


def _version(body: bytes) -> bytes:
    found = VERSION.search(body)
    return found.group(1) if found else b""


async def browser_user(conn, stats, code_ref, stop_at, think):
    """A browser with the job page open: the page once, then job.js polls the live part with
    If-None-Match (every `think` seconds while it changes, 1.5× longer after each unchanged
    answer up to 5 × think) and fetches the table's rows when their digest in the part moves, until
    the job ends. Then some people look at their jobs list or download the results (spread
    over a few seconds). A user opens the next job's page when one is queued."""
    await asyncio.sleep(random.uniform(0, think))  # people don't all open the page in the same ms
    current, etag, version, finished, n, delay = None, None, b"", False, 0, think
    while time.monotonic() < stop_at and n < MAX_REQUESTS_PER_USER:
        n += 1
        if code_ref[0] != current:  # a new job: open its page
            current, etag, finished, delay = code_ref[0], None, False, think
            _, _, body = await stats.fetch(conn, "job page", f"/jobs/{current}/")
            version = _rows_version(body)
        elif not finished:
            status, head, body = await stats.fetch(
                conn, "live part", f"/jobs/{current}/live/", {"If-None-Match": etag} if etag else None
            )
            delay = think if status == 200 else min(delay * 1.5, 5 * think)  # as job.js backs off
            if status == 200:
                etag = head.get("etag")
                if _rows_version(body) != version:  # as job.js: the first rows' digest moved
                    version = _rows_version(body)
                    # As job.js: the digest the part gave, so the rows kept with the part are sent.
                    await stats.fetch(conn, "rows", f"/jobs/{current}/rows/", {"X-Rows-Digest": version.decode()})
                if b'data-finished="true"' in body:
                    finished = True
                    await after_the_job(conn, stats, current)
        await asyncio.sleep(delay if not finished else think)


async def after_the_job(conn, stats, code):
    """A finished job: one person in five downloads its results, one in three opens the list."""
    await asyncio.sleep(random.uniform(0, 5))
    if random.random() < 0.2:
        await stats.fetch(conn, "results.csv", f"/jobs/{code}/results.csv")
    if random.random() < 0.33:
        await stats.fetch(conn, "job list", "/jobs/")


async def poll_page_user(conn, stats, code_ref, stop_at, think, page_every):
    """The heavy model: the page (every page_every polls) and the live part each poll."""
    await asyncio.sleep(random.uniform(0, think))
    n = 0
    while time.monotonic() < stop_at and n < MAX_REQUESTS_PER_USER:
        code = code_ref[0]
        if n % page_every == 0:
            await stats.fetch(conn, "job page", f"/jobs/{code}/")
        await stats.fetch(conn, "live part", f"/jobs/{code}/live/")
        n += 1
        await asyncio.sleep(think)


async def previewer(conn, stats, draft_id, stop_at, think):
    """A preview open in a browser: the page, then plan-poll.js asks plan.json (each second while
    its count moves, backing off as it does) while the plan is read on a worker and reloads the
    page when it is ready; the person reads it for a while and asks for it to be read again
    ("Read again": ?again=1, which redirects)."""
    await asyncio.sleep(random.uniform(0, 5 * think))
    base = f"/copy/preview/{draft_id}/"
    n = 0
    while time.monotonic() < stop_at and n < MAX_REQUESTS_PER_USER:
        _, _, body = await stats.fetch(conn, "preview", base)
        delay, last = think, b""
        while b"data-plan-poll" in body and time.monotonic() < stop_at and n < MAX_REQUESTS_PER_USER:
            n += 1
            await asyncio.sleep(delay)
            status, _, answer = await stats.fetch(conn, "plan.json", _poll_url(body) or f"{base}plan.json")
            # As plan-poll.js: every `think` while the count moves, 1.5× longer after each same answer.
            delay, last = (min(delay * 1.5, 5 * think) if answer == last else think), answer
            if status == 200 and b'"reading"' not in answer:
                _, _, body = await stats.fetch(conn, "preview, plan ready", base)
        n += 1
        await asyncio.sleep(random.uniform(5, 15) * think)
        await stats.fetch(conn, "preview again", f"{base}?again=1", ok=(302,))


async def follow_jobs(stack, conn, code_ref, stop_at, t0):
    """Queue the next job when the current one ends (the users then open its page)."""
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
