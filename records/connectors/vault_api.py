"""Veeva Vault as one profile reaches it: the session (login, and the check that it is for the
profile's Vault), one call with that session, the burst-limit throttle, and VQL paging.

Facts and sources: ../shared/api-notes/vault.md (section numbers below refer to it). Vault answers
HTTP 200 for every processed request, so decisions are made on `responseStatus` and the error
`type`, never on the HTTP status (§6). Headers are read case-insensitively (`requests` does).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from typing import Any

from records.connectors import vault_parse as vp
from records.connectors.base import ProfileConfig, TokenStore
from records.connectors.budgets import BURST_WINDOW, Budget, header_int
from records.connectors.errors import AuthFailed, ConfigurationError, Rejected
from records.connectors.http import HttpClient, Response
from records.connectors.turns import InTurn

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 50_000  # §3.3
SESSION_LIFETIME = dt.timedelta(hours=47)  # §1.3: hard cap 48 h; re-authenticate a little early


class VaultApi:
    """The Vault's API for one profile: `call()` sends a request with a valid session and returns
    the body once it says SUCCESS or WARNING; `query()` yields a VQL statement's rows."""

    def __init__(
        self,
        config: ProfileConfig,
        tokens: TokenStore,
        http: HttpClient,
        *,
        base: str,
        version: str,
        burst_threshold: int | None,
        burst_pause: float,
        sleep: Callable[[float], None],
        burst_window: float = BURST_WINDOW,
    ) -> None:
        self.config = config
        self.tokens = tokens
        self.http = http
        self.base = base
        self.version = version
        # Below this many calls left in the 5-minute window, pause before each call (§7.1).
        self.burst_threshold = burst_threshold
        self.burst_pause = burst_pause
        self.burst_window = burst_window
        self.sleep = sleep
        self.budget = Budget("burst")  # what the answers said of the window (preview, job page)
        # The profile's concurrency bounds this connector's calls in flight, however many threads
        # make them (a plan's reads started together, each fanning out its own chunks), each call
        # in the order it asked (turns.py: the calls a plan needs first were asked first).
        self._in_flight = InTurn(config.concurrency)

    # -- session ----------------------------------------------------------------------------------
    def _mint(self) -> tuple[str, dt.datetime]:
        """Log in (§1.1) and check the session belongs to the profile's Vault."""
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/authentication/user-name-and-password/
        response = self._paced(
            "POST", "auth", safe=True, data={"username": self.config.username, "password": self.config.secret}
        )
        session = vp.login_session(vp.json_body(response), self.base)
        if not session.vault_ok:
            log.warning(
                "Vault session for %s is for Vault %s, not the profile's host", self.base, session.vault_id or "?"
            )
        return session.encode(), dt.datetime.now(dt.UTC) + SESSION_LIFETIME

    def session(self) -> tuple[str, vp.Session]:
        raw, expires = self.tokens.get()
        if not raw or (expires is not None and expires <= dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)):
            raw = self.tokens.refresh(raw, self._mint)
        return raw, vp.Session.decode(raw)

    def write_session(self) -> tuple[str, vp.Session]:
        """A session checked to be for the profile's Vault (§1.1); refuse to go on otherwise.
        Every write and the connection test use it."""
        raw, session = self.session()
        if session.vault_ok is None:  # cached without the check: log in again to make it
            raw = self.tokens.refresh(raw, self._mint)
            session = vp.Session.decode(raw)
        if not session.vault_ok:
            raise ConfigurationError(
                "Vault opened a session for a different Vault than this profile's host; nothing was written.",
                error_type="WRONG_VAULT",
            )
        return raw, session

    # -- calls ------------------------------------------------------------------------------------
    def path(self, path: str) -> str:
        return path if path.startswith("/api/") else f"api/{self.version}/{path}"

    def send(
        self, method: str, path: str, *, safe: bool, write: bool = False, **kwargs: Any
    ) -> tuple[Response, dict[str, Any] | None]:
        """Send one call with the session; re-authenticate once on INVALID_SESSION_ID (§1.5).

        Return (response, parsed JSON body or None for other content)."""
        headers = kwargs.pop("headers", {})
        raw, response, body = self._request(method, path, headers, safe=safe, write=write, **kwargs)
        if _session_refused(body):
            # Refused unprocessed, so even a write may be sent again with a new session.
            log.info("Vault session expired; logging in again")
            self.tokens.refresh(raw, self._mint)
            raw, response, body = self._request(method, path, headers, safe=safe, write=write, **kwargs)
            if _session_refused(body):
                raise AuthFailed("Vault refused the session again after a new login.", error_type="INVALID_SESSION_ID")
        if body is None and response.status_code >= 500:
            raise vp.lost(write, f"Vault answered HTTP {response.status_code}.")
        return response, body

    def _request(
        self, method: str, path: str, headers: dict[str, str], *, safe: bool, write: bool, **kwargs: Any
    ) -> tuple[str, Response, dict[str, Any] | None]:
        raw, session = self.write_session() if write else self.session()
        with self._in_flight:
            response = self._paced(method, path, safe=safe, headers={**headers, "Authorization": session.id}, **kwargs)
        return raw, response, vp.json_body(response)

    def call(self, method: str, path: str, *, safe: bool = True, write: bool = False, **kwargs: Any) -> dict[str, Any]:
        """Send a call that answers JSON and return the body once it says SUCCESS or WARNING."""
        _, body = self.send(method, path, safe=safe, write=write, **kwargs)
        if body is None:
            raise vp.lost(write, "Vault gave an answer that is not JSON.")
        return vp.check(body, write=write)

    def _paced(self, method: str, path: str, **kwargs: Any) -> Response:
        """One HTTP call in its turn of the burst window's pacing, its answer noted."""
        self._pace()
        try:
            response = self.http.request(method, self.path(path), **kwargs)
        except BaseException:
            self.budget.answered()  # no answer to note: not in flight any more
            raise
        self._throttle(response)
        return response

    def _pace(self) -> None:
        """§7.1: wait for this call's turn once the burst window runs low, so that what is left
        lasts until the window ends: Vault never has to delay us, and the window is never run dry."""
        threshold = self.burst_threshold
        if threshold is None:
            threshold = max(20, (self.budget.limit or 2000) // 10)
        pause = self.budget.pace(window=self.burst_window, threshold=threshold, floor=self.burst_pause)
        if pause > 0:
            log.info("Vault burst limit: %s calls left; pausing %.2fs", self.budget.remaining, pause)
            self.budget.waiting(pause)
            self.sleep(pause)
            self.budget.waiting(0)

    def _throttle(self, response: Response) -> None:
        """What the answer says of the burst window (every answer carries it, §7.2): the pacing's input."""
        remaining = header_int(response.headers, "X-VaultAPI-BurstLimitRemaining")
        self.budget.note(remaining, header_int(response.headers, "X-VaultAPI-BurstLimit") or 2000)

    # -- VQL ---------------------------------------------------------------------------------------
    def query(self, q: str) -> Iterator[dict[str, Any]]:
        """Run a VQL statement (§3.3) and yield every row, following next_page."""
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-query-language-vql/submitting-a-query/
        if len(q) > MAX_QUERY_CHARS:
            raise Rejected("The query is longer than Vault accepts.", error_type="QUERY_TOO_LONG")
        body = self.call("POST", "query", data={"q": q})
        while True:
            yield from vp.rows(body)
            next_page = (body.get("responseDetails") or {}).get("next_page")
            if not next_page:
                return
            # Docs say POST for page calls (VAPIL uses GET); both are reads.
            body = self.call("POST", next_page)


def _session_refused(body: dict[str, Any] | None) -> bool:
    return body is not None and vp.first_error(body)[0] == "INVALID_SESSION_ID"
