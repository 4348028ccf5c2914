"""Zoho CRM as one profile reaches it: the OAuth refresh-token flow and one API call.

Facts and sources: ../shared/api-notes/zoho.md (section numbers below refer to it). Every call goes
through `HttpClient`, inside the profile's concurrency gate (§9); the access token is cached per
profile in the TokenStore shared by workers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from records.connectors import zoho_parse as zp
from records.connectors.base import ProfileConfig, TokenStore
from records.connectors.budgets import CREDIT_FLOOR, CREDIT_WAIT, Budget, credit_pause, header_int
from records.connectors.errors import OutcomeUnknown, RateLimited, Unavailable
from records.connectors.http import HttpClient, Response, iter_body
from records.connectors.slots import RedisSlots

log = logging.getLogger(__name__)

DEFAULT_API_VERSION = "v7"
# Refresh a little before Zoho would refuse the token, so a call never starts with a dying token.
REFRESH_MARGIN = dt.timedelta(seconds=60)
# §1.4: the codes of an expired or revoked access token.
EXPIRED_TOKEN_CODES = ("INVALID_TOKEN", "INVALID_OAUTHTOKEN")
TOKEN_RETRIES = 3  # a call refused for its token: refreshed and sent again at most this often


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ZohoApi:
    """The org's API for one profile: `call()` sends a request with a fresh access token and
    turns the answer into a parsed body or a typed error."""

    def __init__(
        self,
        config: ProfileConfig,
        tokens: TokenStore,
        http: HttpClient,
        gate: threading.BoundedSemaphore | RedisSlots,
        *,
        api_domain: str,
        accounts_url: str,
        version: str,
    ) -> None:
        self.config = config
        self.tokens = tokens
        self.http = http
        self.gate = gate
        self.api_domain = api_domain
        self.accounts_url = accounts_url
        self.version = version
        self.sleep = time.sleep
        self.budget = Budget("credits")  # the last X-API-CREDITS-REMAINING seen (§9)

    # -- OAuth (§1) ----------------------------------------------------------------------------
    def token(self) -> str:
        token, expires = self.tokens.get()
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.UTC)
        if token and (expires is None or expires - _utcnow() > REFRESH_MARGIN):
            return token
        return self.tokens.refresh(token, self._mint)

    def _mint(self) -> tuple[str, dt.datetime]:
        # Reference: https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token-expiry.html
        # The credentials go in the form body, never the URL, so no access log or urllib3 debug
        # line can show them.
        response = self.http.request(
            "POST",
            f"{self.accounts_url}/oauth/v2/token",
            safe=True,
            data={
                "grant_type": "refresh_token",
                "client_id": self.config.username,
                "client_secret": self.config.secret,
                "refresh_token": self.config.refresh_token,
            },
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        token, seconds, domain = zp.token_answer(response.status_code, body)
        if domain and domain.rstrip("/").lower() != self.api_domain.lower():
            # Ignored (not followed): the profile's API domain passed the SSRF guard, the token
            # answer's did not; sending our token wherever the answer says would defeat the guard.
            log.warning("Zoho token answer names another API domain; keeping the profile's.")
        return token, _utcnow() + dt.timedelta(seconds=seconds)

    # -- one API call --------------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        *,
        safe: bool,
        write: bool = False,
        results: str = "data",
        bulk: bool = False,
        **kwargs: Any,
    ) -> tuple[int, Any]:
        """Send one API call; return (status, parsed body or None for 204). Raise typed errors.

        An answer carrying a `results` array (a batch write's per-record results, `data`; the
        settings writes' `fields`) is returned even when its status is 400: per-item codes are
        the truth (§3.1). `bulk`: the Bulk Read / Write APIs' paths, `/crm/bulk/{version}/...`.
        """
        url = self._url(path, bulk=bulk)
        self._pace()
        token = self.token()
        status, body = self._send(method, url, token, safe=safe, **kwargs)
        for _ in range(TOKEN_RETRIES):
            if not (status == 401 and zp.envelope(body)[0] in EXPIRED_TOKEN_CODES):
                break
            # §1.4: expired or revoked token. Refresh (the store mints only if nobody else has
            # already replaced this token) and retry; 401 means not processed, so resending is
            # safe. More than once: calls in flight together may each see the other's token go.
            token = self.tokens.refresh(token, self._mint)
            status, body = self._send(method, url, token, safe=safe, **kwargs)
        if status == 204:
            return status, None
        return status, _checked(status, body, write=write, results=results)

    def _send(self, method: str, url: str, token: str, *, safe: bool, **kwargs: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Zoho-oauthtoken {token}", "Accept": "application/json"}
        headers.update(kwargs.pop("headers", {}))
        with self.gate:
            response = self.http.request(method, url, safe=safe, headers=headers, **kwargs)
        self.budget.note(header_int(response.headers, "X-API-CREDITS-REMAINING"))
        if response.status_code == 204:
            return 204, None
        return response.status_code, _json(response)

    def _pace(self) -> None:
        """§9: slow down as the day's credits run low; at the floor, stop before spending the rest
        (the job pauses and tries again later: RateLimited, as a 429 would)."""
        remaining = self.budget.remaining
        if remaining is None:
            return
        if remaining <= CREDIT_FLOOR:
            until = self.budget.wait_until
            if until is not None and _utcnow() >= until:
                return  # waited long enough: this call asks again (its answer says what is left)
            if until is None:
                self.budget.waiting(CREDIT_WAIT.total_seconds())
            raise RateLimited(
                f"Only {remaining} Zoho API credits are left today; the copy waits for more.",
                error_type="CREDITS_LOW",
                retry_after=CREDIT_WAIT.total_seconds(),
            )
        pause = credit_pause(remaining) * max(1, self.config.concurrency)  # shared by the threads
        if pause:
            self.sleep(pause)

    @contextlib.contextmanager
    def download(self, path: str, *, bulk: bool = False, **kwargs: Any) -> Iterator[Iterator[bytes]]:
        """A file's bytes (Download an Attachment, Get Files, a bulk job's result), a chunk at a
        time. The profile's concurrency slot is held until the block ends: the call is in flight
        while it streams."""
        url = self._url(path, bulk=bulk)
        with self.gate:
            token = self.token()
            response = self.http.request("GET", url, safe=True, stream=True, headers=_auth(token), **kwargs)
            if response.status_code == 401:
                # §1.4: an expired token, refused unprocessed: refresh once and ask again.
                response.close()
                token = self.tokens.refresh(token, self._mint)
                response = self.http.request("GET", url, safe=True, stream=True, headers=_auth(token), **kwargs)
            try:
                if response.status_code != 200 or "json" in response.headers.get("Content-Type", "").lower():
                    raise zp.error_for(response.status_code, _json(response), write=False)
                yield iter_body(response)
            finally:
                response.close()

    def _url(self, path: str, *, bulk: bool) -> str:
        return f"/crm/{'bulk/' if bulk else ''}{self.version}/{path.lstrip('/')}"

    def module_path(self, module: str, *parts: str) -> str:
        return "/".join([quote(zp.check_name(module), safe="")] + [quote(str(p), safe="") for p in parts])


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Zoho-oauthtoken {token}", "Accept": "*/*"}


def _json(response: Response) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def _checked(status: int, body: Any, *, write: bool, results: str) -> Any:
    """The body of a 2xx answer (or of a batch answer with per-item results); else the typed error."""
    if 200 <= status < 300:
        if body is None:
            if write:
                raise OutcomeUnknown(
                    "Zoho's answer could not be read; the write may have been applied.",
                    error_type="UNREADABLE_ANSWER",
                )
            raise Unavailable("Zoho's answer could not be read.", error_type="UNREADABLE_ANSWER")
        return body
    if status in (400, 207, 202) and isinstance(body, dict) and isinstance(body.get(results), list):
        return body
    raise zp.error_for(status, body, write=write)
