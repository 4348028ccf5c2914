"""A page's rendering kept for a few seconds, per user, address and state: when many people open
(or reload) the same job's page in the same second, or poll its live part and rows, one render
serves them all. Measured with scripts/load_job_pages.py: 40 watchers opening a new job's page
within a second queued seconds of renders on two CPUs; a kept page costs half the CPU
(docs/performance.md).

What the caller passes as `state` decides when the page is rendered anew (the job's row and its
result counts, for the job page); whatever else a page shows (a profile shared or not, the words
of a wait's "until") may lag by at most PAGE_CACHE_SECONDS: display only, every action checks
again when it is posted. Not cached: a page with a query string (filters, a results page) or with
flash messages waiting (rendering shows them once). The CSRF token is the request's own: the page
is kept with a slot in its place."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpRequest
from django.middleware.csrf import get_token

# What {% csrf_token %} prints in a kept page instead of a token (letters only: never escaped).
CSRF_SLOT = "csrfslotb7e1c0d4a9f2"
# Requests for the same page wait for the first one's render rather than render it too; striped,
# so the locks are a fixed few whatever the number of pages.
_STRIPES = [threading.Lock() for _ in range(32)]
_LATEST = "the latest rendering"  # kept_or_previous's state for the last one given
# How long the latest rendering may stand in for a newer one being rendered: about a poll.
PREVIOUS_SECONDS = 2


def kept_render(request: HttpRequest, *, state: Hashable, render: Callable[[str], str]) -> str:
    """The HTML with CSRF_SLOT where the token goes (the same for everyone, so it can be an ETag's
    source; with_token puts the request's in): rendered at most once per PAGE_CACHE_SECONDS for
    this user, address and `state`."""
    if not keeps(request):
        return render(CSRF_SLOT)
    key = _key(request, state)
    with _STRIPES[hash(key) % len(_STRIPES)]:
        html: str | None = cache.get(key)
        if html is None:
            html = render(CSRF_SLOT)
            cache.set(key, html, settings.PAGE_CACHE_SECONDS)
    return html


def kept_or_previous(
    request: HttpRequest, *, state: str, render: Callable[[str], str], take: Callable[[str], object]
) -> tuple[str, str]:
    """As kept_render, with the state of what it gives: while another thread renders this page
    (the job moved), the one this user was last given at this address (at most PREVIOUS_SECONDS
    old) if `take(its state)`, rather than wait for the render (measured: ~30 ms of CPU, 100-300
    ms under load, and every request for the job in that process waited behind it). The live
    part takes it only when the client has it already (a 304: any other could be older than what
    the client shows, its numbers going back); the job page always (job.js asks for the live part
    and the rows within a second)."""
    if not keeps(request):
        return state, render(CSRF_SLOT)
    key, latest = _key(request, state), _key(request, _LATEST)
    html: str | None = cache.get(key)
    if html is not None:
        return state, html
    stripe = _STRIPES[hash(key) % len(_STRIPES)]
    if not stripe.acquire(blocking=False):
        previous: tuple[str, str] | None = cache.get(latest)
        if previous is not None and take(previous[0]):
            return previous
        stripe.acquire()
    try:
        html = cache.get(key)
        if html is None:
            html = render(CSRF_SLOT)
            cache.set(key, html, settings.PAGE_CACHE_SECONDS)
            cache.set(latest, (state, html), PREVIOUS_SECONDS)
    finally:
        stripe.release()
    return state, html


def kept_beside(request: HttpRequest, *, path: str, state: Hashable, render: Callable[[str], str]) -> str:
    """As kept_render, for the page at `path` (another address of this user's): the live part
    renders the table's first rows for their digest and keeps them for the rows view, which every
    watcher asks next. Without the stripe lock: called while one is held, a second could cross
    another thread's (a deadlock); two threads may then both render it, which is only the cost."""
    html = peek(request, path=path, state=state)
    if html is None:
        html = render(CSRF_SLOT)
        keep(request, path=path, state=state, html=html)
    return html


def peek(request: HttpRequest, *, state: Hashable, path: str | None = None) -> str | None:
    """The HTML kept for this user, address (`path`, else the request's) and state, if any."""
    return cache.get(_key(request, state, path)) if keeps(request) else None


def keep(request: HttpRequest, *, state: Hashable, html: str, path: str | None = None) -> None:
    if keeps(request):
        cache.set(_key(request, state, path), html, settings.PAGE_CACHE_SECONDS)


def keeps(request: HttpRequest) -> bool:
    """Whether this request's page may be kept (or served kept): the caller need not work out the
    page's state otherwise."""
    return settings.PAGE_CACHE_SECONDS > 0 and not request.GET and not len(get_messages(request))


def with_token(request: HttpRequest, html: str) -> str:
    return html.replace(CSRF_SLOT, get_token(request))


def _key(request: HttpRequest, state: Hashable, path: str | None = None) -> str:
    who = (request.user.pk, path or request.path, state)
    return "page:" + hashlib.blake2b(repr(who).encode(), digest_size=16).hexdigest()
