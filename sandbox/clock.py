"""The emulators' clock: ours shifted by a knob (`clock_skew`, seconds), so tests can serve a remote
whose clock runs ahead of or behind the app's. The skew moves both the records' created/modified
times and the `Date` header of every API answer, as a real server's wrong clock would."""

from __future__ import annotations

import email.utils
import time
from datetime import UTC, datetime, timedelta


def now(skew: float = 0.0) -> datetime:
    """The emulator's time (aware, UTC)."""
    return datetime.now(UTC) + timedelta(seconds=skew)


def timestamp(skew: float = 0.0) -> float:
    """The emulator's time as seconds since the epoch (`now(skew).timestamp()`, without a datetime)."""
    return time.time() + skew


def http_date(skew: float = 0.0) -> str:
    """An RFC 7231 IMF-fixdate for the `Date` header (`Sun, 06 Dec 2026 02:03:04 GMT`).
    Reference: https://www.rfc-editor.org/rfc/rfc7231#section-7.1.1.2"""
    return email.utils.formatdate(time.time() + skew, usegmt=True)


def date_header(skew: float = 0.0) -> tuple[str, str]:
    return ("Date", http_date(skew))
