"""The one HTTP seam: every call to Vault or Zoho goes through `HttpClient.request`.

It always sets a (connect, read) timeout, never follows redirects, stays on the profile's hosts,
retries only what is safe to repeat, and turns `requests` exceptions into connector errors.
Nothing else in the project imports `requests`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from records.connectors.errors import ConfigurationError, ConnectorError, OutcomeUnknown, RateLimited, Unavailable

log = logging.getLogger(__name__)

# The answer type, for the connectors to name without importing requests themselves.
Response = requests.Response

# Vault delays (rather than rejects) calls over its burst limit, so reads must wait long enough
# for a throttled answer; 5 s to connect is plenty on any network that works at all.
DEFAULT_TIMEOUT = (5.0, 120.0)
RETRY_STATUSES = {429, 500, 502, 503, 504}
CHUNK_SIZE = 256 * 1024  # a download's pieces: large enough for throughput, small for memory


class HttpClient:
    def __init__(
        self,
        base_url: str,
        *,
        other_origins: tuple[str, ...] = (),
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        headers: dict[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        pool_size: int = 10,
    ):
        self.base_url = base_url.rstrip("/") + "/"
        self._origins = {_origin(base_url), *(_origin(o) for o in other_origins)}
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.session = requests.Session()
        # Proxies and .netrc from the environment must not see our credentials or redirect calls.
        self.session.trust_env = False
        # Redirects are refused per call (allow_redirects=False + the 3xx check below). Note:
        # max_redirects=0 would make requests raise TooManyRedirects even for an unfollowed 3xx.
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update(headers or {})
        # The remote's clock minus ours, from the latest answer's Date header (None before any).
        # One attribute replaced whole, so concurrent threads read an old or a new value, never half.
        self._clock_offset: dt.timedelta | None = None

    def url(self, path: str) -> str:
        url = urljoin(self.base_url, path.lstrip("/")) if "://" not in path else path
        if _origin(url) not in self._origins:
            raise ConfigurationError("Refused a URL outside the profile's hosts.", error_type="INVALID_URL")
        return url

    def request(
        self,
        method: str,
        path: str,
        *,
        safe: bool,
        timeout: tuple[float, float] | None = None,
        retry_statuses: set[int] = RETRY_STATUSES,
        rewind: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send one request and return the response, whatever its status.

        `safe`: the call can be repeated without effect (reads, queries, upserts by key). Such
        calls are retried on network errors, 429 and 5xx. An unsafe call (a create) is retried
        only when it provably did not reach the server (connect failure) or was refused
        unprocessed (429); a lost answer raises OutcomeUnknown and the engine reconciles.

        `rewind`: a streamed body (a file upload, `uploads.MultipartBody`) is put back to its start
        before every attempt, so a retry sends it whole. `stream=True` (see `stream()`) leaves the
        answer's body unread; an answer not returned is closed, so its connection goes back.
        """
        url = self.url(path)
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self.max_attempts
            if rewind is not None:
                rewind()
            try:
                response = self.session.request(
                    method, url, timeout=timeout or self.timeout, allow_redirects=False, **kwargs
                )
            except requests.RequestException as exc:
                error = _send_failure(exc, url=url, safe=safe, last=last)
                if error is not None:
                    raise error from exc
            else:
                self._note_clock(response, url)
                if 300 <= response.status_code < 400:
                    raise ConfigurationError("Refused to follow a redirect.", error_type="REDIRECT")
                retry = response.status_code in retry_statuses and (safe or response.status_code == 429)
                if not retry:
                    return response
                if last:
                    if response.status_code == 429:
                        raise RateLimited(
                            "The system is still rate-limiting after several tries.",
                            error_type="TOO_MANY_REQUESTS",
                            retry_after=_retry_after(response),
                        )
                    return response
                self._pause(response, attempt)
                continue
            self.sleep(self.delay(attempt))

    def _pause(self, response: requests.Response, attempt: int) -> None:
        """Wait before retrying a refused call: its Retry-After, else the backoff. The refused
        answer is closed first (a streamed one would hold its connection)."""
        wait = _retry_after(response)
        response.close()
        self.sleep(min(wait, self.max_backoff) if wait is not None else self.delay(attempt))

    @contextlib.contextmanager
    def stream(self, method: str, path: str, *, safe: bool = True, **kwargs: Any) -> Iterator[requests.Response]:
        """`request()` with the answer's body left on the wire, for a download: read it through
        `iter_body()`; the answer is closed when the block ends (its connection goes back)."""
        response = self.request(method, path, safe=safe, stream=True, **kwargs)
        try:
            yield response
        finally:
            response.close()

    def close(self) -> None:
        self.session.close()

    def clock_offset(self) -> dt.timedelta:
        """The remote's clock minus ours, as of the latest answer from the profile's base URL that
        carried a readable `Date` header; zero before any.

        `Date` (RFC 7231 §7.1.1.2, https://www.rfc-editor.org/rfc/rfc7231#section-7.1.1.2) has
        whole seconds and is stamped before the answer travels, so the estimate runs low by up to a
        second plus the travel time: a "created since" bound moved by it errs early (the safe side
        for finding a lost copy); whoever compares remote timestamps with it still allows a margin."""
        return self._clock_offset or dt.timedelta(0)

    def _note_clock(self, response: requests.Response, url: str) -> None:
        if _origin(url) != _origin(self.base_url):
            return  # another host (Zoho's accounts server) may keep another clock
        remote = parse_http_date(response.headers.get("Date"))
        if remote is not None:
            self._clock_offset = remote - dt.datetime.now(dt.UTC)

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter, so workers don't retry in lockstep."""
        cap = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return random.uniform(0, cap)  # noqa: S311 (jitter, not a secret)


def iter_body(response: requests.Response, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """A streamed answer's body a chunk at a time; a connection lost mid-body is `Unavailable`
    (a download only reads: the caller may start it again)."""
    try:
        yield from response.iter_content(chunk_size)
    except (requests.RequestException, OSError) as exc:
        raise Unavailable("The download broke off.", error_type="CONNECTION_FAILED") from exc


def _send_failure(exc: requests.RequestException, *, url: str, safe: bool, last: bool) -> ConnectorError | None:
    """What a request that got no answer becomes: the error to raise, or None to try it again.
    A write whose answer was lost may have been applied, so it is never simply sent again."""
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        return Unavailable(f"Could not connect to {_origin(url)}.", error_type="CONNECTION_FAILED") if last else None
    if isinstance(exc, requests.ConnectionError):
        if not (safe or _never_sent(exc)):
            return OutcomeUnknown(
                "The connection was lost before the answer arrived; the write may have been applied.",
                error_type="OUTCOME_UNKNOWN",
            )
        return Unavailable(f"Could not reach {_origin(url)}.", error_type="CONNECTION_FAILED") if last else None
    if isinstance(exc, requests.ReadTimeout):
        if not safe:
            return OutcomeUnknown(
                "No answer before the timeout; the write may have been applied.", error_type="OUTCOME_UNKNOWN"
            )
        return Unavailable("The system did not answer in time.", error_type="TIMEOUT") if last else None
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        # The answer broke off mid-body: the server got (and maybe applied) the request.
        if not safe:
            return OutcomeUnknown(
                "The answer broke off; the write may have been applied.", error_type="OUTCOME_UNKNOWN"
            )
        return Unavailable("The answer broke off.", error_type="CONNECTION_FAILED") if last else None
    if isinstance(exc, requests.TooManyRedirects):
        return ConfigurationError("Refused to follow a redirect.", error_type="REDIRECT")
    return Unavailable("The request failed.", error_type="REQUEST_FAILED")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def parse_http_date(value: str | None) -> dt.datetime | None:
    """An HTTP `Date` header (RFC 7231 IMF-fixdate, or the obsolete forms) as an aware UTC
    datetime; None when missing or unreadable."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection failed before the request went out (refused, DNS)."""
    text = repr(exc.args[0] if exc.args else exc)
    return any(s in text for s in ("NewConnectionError", "Connection refused", "NameResolutionError"))


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
