"""The Zoho CRM REST API emulator (a plain WSGI app). Section numbers refer to api-notes zoho.md.

The accounts server (`/oauth/v2/token`) and the API domain (`/crm/v{n}/…`) are the same host here;
the app derives its base URL (for `api_domain` and `href`s) from the request's Host header.
Faults, latency and the request log belong to the core middleware (sandbox/server.py).
"""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from sandbox import clock, demo, record_page, zoho_demo
from sandbox.files import FileStore
from sandbox.vault_files import FileAnswer
from sandbox.zoho_api import RecordsApi
from sandbox.zoho_bulk import ZohoBulk
from sandbox.zoho_files import ZohoFiles
from sandbox.zoho_state import ApiError, ZohoState, err


@dataclass
class ZohoSettings:
    token_lifetime: float = 3600.0  # §1.2 access token valid 1 h
    max_active_tokens: int | None = 15  # §1.2 the 16th invalidates the oldest
    mint_throttle: int | None = None  # §1.2 10 mints per window per refresh token (off by default)
    mint_window: float = 600.0
    concurrency_limit: int = 10  # §9 per org per app (Standard edition); 429 beyond
    sub_concurrency_limit: int = 10  # §9 bulk writes (> 10 records) and COQL
    processing_delay: float = 0.0  # seconds each API call stays in flight (to exercise the limits)
    daily_credits: int | None = None  # §9 credit budget; None = unlimited
    missing_record: str = "204"  # §4.2 [UNCONFIRMED]: "204" or "invalid_data" for GET /{module}/{id}
    clone_unknown_id: str = "invalid_data"  # §2 [UNCONFIRMED]: "invalid_data" (400) or "204"
    clone_body_requires_data: bool = True  # §2 [SECONDARY]: a body without `data` → MANDATORY_NOT_FOUND
    clone_subform_override: str = "replace"  # §7 [UNCONFIRMED]: "replace" or "append"
    partial_status: int = 207  # §3.1 [UNCONFIRMED for v7]: mixed batch
    all_failed_status: int = 400  # §3.1 [UNCONFIRMED]: every record failed
    search_equals_contains: bool = True  # §4.3 "equals" on text behaves like contains
    search_index_delay: float = 0.0  # §4.3 fresh records missing from search for this long
    search_cap: int = 2000  # §4.3
    coql_empty_status: int = 204  # §4.4 [UNCONFIRMED for COQL]
    tasks_open_only: bool = False  # §5.3/recipe [UNCONFIRMED]: the Tasks related list hides closed tasks
    max_page_records: int = 2000  # §4.1 page × per_page reach without page_token
    # An org's validation rule, for tests of partial failures: an insert, clone or update leaving a
    # record of `module` with `field` equal to `value` is refused per record, as INVALID_DATA on
    # that field (§3.1's per-record error; the exact code of a validation rule is [UNCONFIRMED]).
    reject_values: tuple[tuple[str, str, str], ...] = ()  # (module, field, value)
    # Create Custom Fields refused: "NO_PERMISSION" (403, the user isn't an administrator) or
    # "OAUTH_SCOPE_MISMATCH" (401, the token lacks ZohoCRM.settings.fields.CREATE); "" creates.
    fields_create_error: str = ""
    # Serve the demo modules with the Copy_Key field (the copy engine's idempotency marker); off:
    # no module has it (metadata and records), as in a real org. Read when the data is (re)loaded.
    copy_keys: bool = True
    # Seconds this org's clock runs ahead of ours (negative: behind): records' created/modified
    # times and every answer's Date header are shifted by it.
    clock_skew: float = 0.0
    # "main", or "target": the second org copies between profiles go to (sandbox/target_org.py).
    org: str = "main"
    # Where attachments' and files' bytes are kept ("": a temporary directory; --state: beside it).
    files_dir: str = ""
    # Bulk Read / Bulk Write (docs/zoho-bulk-api.md): a job finishes this many seconds after it was
    # made; a write job costs 500 credits (§9); a read job's cost is [UNCONFIRMED]: 50 assumed.
    bulk_job_delay: float = 0.3
    bulk_write_credits: int = 500
    bulk_read_credits: int = 50
    # "Giant Account" with this many related records over two levels below it (zoho_demo.giant_shape),
    # loaded last (the ids above stay); 0: not made. For the 100,000-record benchmark (bench/giant.py).
    giant_related: int = 0

    def updated(self, **kwargs) -> ZohoSettings:
        return replace(self, **kwargs)


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    base_url: str
    version: int = 7
    stream: Any = None  # a file upload's body, read by its route as a stream (sandbox/files.py)
    length: int = 0
    cost: int | None = None  # credits, when the handler knows better than the default (COQL tiers)

    def param(self, name, default=None):
        return self.query.get(name, [default])[0]

    def json(self, *, required: bool = True):
        if not self.body.strip():
            if required:
                raise ApiError(400, "INVALID_DATA", "body is empty")
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            raise ApiError(400, "INVALID_DATA", "invalid json data") from None


_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    207: "Multi-Status",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


class ZohoApp:
    """WSGI callable; `.state` holds the records, `.settings` the knobs, `.reset()` reloads demo data."""

    def __init__(self, settings: ZohoSettings | dict | None = None):
        if isinstance(settings, dict):
            settings = ZohoSettings(**settings)
        self._initial_settings = replace(settings or ZohoSettings())
        self.settings = replace(self._initial_settings)
        self._lock = threading.Lock()  # tokens, mints, in-flight counters, credits
        files_dir = self._initial_settings.files_dir
        self.store = FileStore(Path(files_dir) if files_dir else None)
        self.reset()

    # -- lifecycle and test hooks -----------------------------------------------------------------
    def reset(self) -> None:
        """Reload the deterministic demo data; restore settings; forget tokens, credits, counters."""
        settings = replace(self._initial_settings)
        state = ZohoState(copy_keys=settings.copy_keys, skew=lambda: self.settings.clock_skew, org=settings.org)
        zoho_demo.load(state, giant=settings.giant_related)
        with self._lock:
            self.settings = settings
            self.state = state
            self.records = RecordsApi(self)
            self.tokens: dict[str, dict] = {}  # access token -> {refresh_token, expires_at}
            self.mints: dict[str, deque] = {}
            self.in_flight = 0
            self.in_flight_bulk = 0
            self.credits_used = 0
            self.files = ZohoFiles(self, self.store)
            self.bulk = ZohoBulk(self, self.store)
        self.files.load_demo()

    def expire_tokens(self) -> None:
        """Expire every access token now (§1.4: next call → 401 INVALID_TOKEN)."""
        with self._lock:
            for token in self.tokens.values():
                token["expires_at"] = 0.0

    expire_sessions = expire_tokens  # the core's /_sandbox/expire_sessions control endpoint

    def fault_response(self, status: int, start_response):
        """Injected faults answer in Zoho's envelope (§9 429, §10 500)."""
        if status == 429:
            body = err("TOO_MANY_REQUESTS", "too many requests continuously")
        else:
            body = err("INTERNAL_ERROR", "Internal Server Error")
        return self._send(start_response, status, body)

    # -- WSGI -------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        host = headers.get("host") or f"{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '80')}"
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        path = environ.get("PATH_INFO", "")
        # A file upload is read by its route as a stream, never whole (sandbox/files.py).
        upload = headers.get("content-type", "").lower().startswith("multipart/form-data") and (
            "/Attachments" in path or path.rstrip("/").endswith(("/files", "/upload"))
        )
        body = environ["wsgi.input"].read(length) if length > 0 and not upload else b""
        if environ["REQUEST_METHOD"].upper() == "GET" and path.startswith("/crm/tab/"):
            return record_page.zoho_tab(self.state, path, start_response)  # the record links' pages
        req = Request(
            method=environ["REQUEST_METHOD"].upper(),
            path=environ.get("PATH_INFO", ""),
            query=parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
            headers=headers,
            body=body,
            base_url=f"{environ.get('wsgi.url_scheme', 'http')}://{host}",
        )
        if upload:
            req.stream, req.length = environ["wsgi.input"], length
        try:
            status, payload, extra = self._dispatch(req)
        except ApiError as exc:
            status, payload, extra = exc.status, exc.body, exc.headers
        finally:
            if req.method != "GET" and not req.path.endswith("/coql"):
                self.state.touched()  # whatever a write changed in place
        return self._send(start_response, status, payload, extra)

    def _send(self, start_response, status: int, payload, extra=()):
        reason = f"{status} {_REASONS.get(status, 'OK')}"
        date = clock.date_header(self.settings.clock_skew)
        if isinstance(payload, FileAnswer):
            # Download an Attachment / Get Files: the bytes, named in Content-Disposition.
            start_response(
                reason,
                [
                    ("Content-Type", payload.content_type),
                    ("Content-Length", str(payload.size)),
                    ("Content-Disposition", f'attachment; filename="{payload.filename}"'),
                    date,
                    *extra,
                ],
            )
            return payload.chunks
        if status == 204 or payload is None:
            # §4.1: 204 carries no body at all.
            start_response(reason, [("Content-Length", "0"), date, *extra])
            return [b""]
        body = json.dumps(payload).encode()
        start_response(
            reason,
            [("Content-Type", "application/json;charset=UTF-8"), ("Content-Length", str(len(body))), date, *extra],
        )
        return [body]

    def _dispatch(self, req: Request):
        if req.path.rstrip("/") == "/oauth/v2/token":
            if req.method != "POST":
                raise ApiError(405, "INVALID_REQUEST_METHOD", "the http request method type is not a valid one")
            return 200, self._token(req), []
        parts = [p for p in req.path.split("/") if p]
        if parts[1:2] == ["bulk"]:  # /crm/bulk/v{n}/read|write/...: routed as ["bulk", "read", ...]
            parts = [parts[0], *parts[2:3], "bulk", *parts[3:]]
        if len(parts) < 3 or parts[0] != "crm" or not parts[1].startswith("v"):
            raise ApiError(404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one")
        try:
            req.version = int(parts[1][1:].split(".")[0])
        except ValueError:
            raise ApiError(
                404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one"
            ) from None
        self._authenticate(req)
        return self._limited(req, parts[2:])

    # -- §1.1 token endpoint ------------------------------------------------------------------------
    def _token(self, req: Request) -> dict:
        params = {k: v[0] for k, v in req.query.items()}
        if req.body:
            form = parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)
            params.update({k: v[0] for k, v in form.items()})
        if params.get("client_id") != demo.ZOHO_CLIENT_ID or params.get("client_secret") != demo.ZOHO_CLIENT_SECRET:
            return {"error": "invalid_client"}  # §1.1: HTTP 200 with an error key
        if params.get("grant_type") != "refresh_token":
            return {"error": "unsupported_grant_type"}
        refresh = params.get("refresh_token")
        if refresh != demo.ZOHO_REFRESH_TOKEN:
            return {"error": "invalid_code"}
        now = time.monotonic()
        with self._lock:
            limit = self.settings.mint_throttle
            if limit:
                window = self.mints.setdefault(refresh, deque())
                while window and window[0] <= now - self.settings.mint_window:
                    window.popleft()
                if len(window) >= limit:
                    # §1.2 [UNCONFIRMED body and status]: the commonly reported "Access Denied" reply.
                    return {
                        "error": "Access Denied",
                        "error_description": "You have made too many requests continuously. Please try again after some time.",
                    }
                window.append(now)
            token = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
            self.tokens[token] = {
                "refresh_token": refresh,
                "expires_at": now + self.settings.token_lifetime,
                "minted": now,
            }
            cap = self.settings.max_active_tokens
            if cap:
                mine = sorted(
                    (t for t, v in self.tokens.items() if v["refresh_token"] == refresh),
                    key=lambda t: self.tokens[t]["minted"],
                )
                for old in mine[: max(0, len(mine) - cap)]:
                    del self.tokens[old]
        return {
            "access_token": token,
            "scope": "ZohoCRM.modules.ALL ZohoCRM.settings.ALL ZohoCRM.coql.READ ZohoCRM.users.READ",
            "api_domain": req.base_url,
            "token_type": "Bearer",
            "expires_in": int(self.settings.token_lifetime),
        }

    # -- §1.4 auth --------------------------------------------------------------------------------
    def _authenticate(self, req: Request) -> None:
        header = req.headers.get("authorization", "")
        if not header.startswith("Zoho-oauthtoken "):
            raise ApiError(401, "AUTHENTICATION_FAILURE", "Authentication failed")
        token = header[len("Zoho-oauthtoken ") :].strip()
        with self._lock:
            info = self.tokens.get(token)
            valid = info is not None and info["expires_at"] > time.monotonic()
        if not valid:
            raise ApiError(401, "INVALID_TOKEN", "invalid oauth token")

    # -- §9 limits ----------------------------------------------------------------------------------
    def _limited(self, req: Request, parts: list[str]):
        bulk = self._is_bulk(req, parts)
        with self._lock:
            s = self.settings
            if self.in_flight >= s.concurrency_limit or (bulk and self.in_flight_bulk >= s.sub_concurrency_limit):
                raise ApiError(429, "TOO_MANY_REQUESTS", "concurrency limit of the user for the app is exceeded")
            if s.daily_credits is not None and self.credits_used >= s.daily_credits:
                raise ApiError(429, "TOO_MANY_REQUESTS", "number of API requests for the 24 hour period is exceeded")
            self.in_flight += 1
            self.in_flight_bulk += bulk
        try:
            if s.processing_delay:
                time.sleep(s.processing_delay)
            if self.bulk.handles(parts):  # its jobs take the records' lock when they run
                status, payload = self.bulk.route(req, parts)
                req.cost = self.bulk.cost(req, parts) if status < 400 else None
            elif self.files.handles(parts):  # streams: outside the records' lock
                status, payload = self.files.route(req, parts)
            else:
                with self.state.lock:
                    status, payload = self.records.route(req, parts)
        finally:
            with self._lock:
                self.in_flight -= 1
                self.in_flight_bulk -= bulk
        return status, payload, self._charge(req, parts, payload)

    @staticmethod
    def _is_bulk(req: Request, parts: list[str]) -> bool:
        """§9 sub-concurrency: COQL and writes of more than 10 records."""
        if parts == ["coql"]:
            return True
        if req.method in ("POST", "PUT") and req.body:
            try:
                data = json.loads(req.body).get("data")
            except (ValueError, AttributeError):
                return False
            return isinstance(data, list) and len(data) > 10
        return False

    def _charge(self, req: Request, parts: list[str], payload) -> list:
        """Count the call's credits (§9) and return the X-API-CREDITS-REMAINING header when due."""
        cost = 1
        if req.cost is not None:
            cost = req.cost
        elif req.method in ("POST", "PUT") and isinstance(payload, dict) and isinstance(payload.get("data"), list):
            cost = max(1, math.ceil(len(payload["data"]) / 10))  # §9: 1 credit per 10 records on writes
        with self._lock:
            self.credits_used += cost
            budget = self.settings.daily_credits
            if budget is None or self.credits_used < budget / 2:
                return []
            return [("X-API-CREDITS-REMAINING", str(max(0, budget - self.credits_used)))]
