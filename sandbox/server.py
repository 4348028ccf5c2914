"""Threaded stdlib WSGI server with fault injection, a request log and control endpoints.

Each emulator (Vault, Zoho) is a plain WSGI callable. `FaultMiddleware` wraps it to:
- answer the control endpoints `/_sandbox/faults`, `/_sandbox/log`, `/_sandbox/reset`
  (and `/_sandbox/expire_sessions` when the app has an `expire_sessions()` hook);
- inject faults: added latency, 429, 500, a read timeout, and a dropped connection after
  the app has fully applied a write;
- record every API call as a `LogEntry`, in order;
- count the calls in flight and their peak (`sandbox/in_flight.py`, `/_sandbox/in_flight`).
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import socketserver
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, fields
from io import BytesIO
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from sandbox.hooks import LostAnswer
from sandbox.in_flight import NOT_COUNTED, InFlight

CONTROL_PREFIX = "/_sandbox/"
BODY_SUMMARY_CHARS = 200
SPOOL_IN_MEMORY = 1024 * 1024  # larger request bodies (file uploads) wait on disk
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# POSTs that only read: Vault VQL (/api/{v}/query[/{id}]), Zoho COQL (/crm/{v}/coql), token minting.
READ_ONLY_POST = re.compile(r"^/api/v[\d.]+/query(/|$)|^/crm/v\d+/coql$|^/oauth/v2/token$|^/api/v[\d.]+/auth$")


def is_write(method: str, path: str) -> bool:
    return method in WRITE_METHODS and not (method == "POST" and READ_ONLY_POST.match(path))


_SECRET_RE = re.compile(r"((?:password|client_secret|refresh_token|code)[\"']?\s*[=:]\s*[\"']?)([^&\"'\s,}]+)", re.I)


class _Dropped(Exception):
    """The middleware closed the socket on purpose; send nothing."""


@dataclass
class LogEntry:
    method: str
    path: str
    body_summary: str
    status: int | None
    outcome: str  # ok | fault_429 | fault_500 | fault_timeout | dropped_after_write | lost_applied | lost_not_applied


@dataclass
class FaultConfig:
    latency: float = 0.0
    p429: float = 0.0
    p500: float = 0.0
    p_timeout: float = 0.0
    p_drop_after_write: float = 0.0
    # Only writes of this HTTP method have their answer dropped (e.g. "PUT"); "" = every write.
    drop_method: str = ""
    seed: int | None = None
    # How long a "read timeout" holds the request before closing the socket unanswered.
    # Pick more than the client's read timeout.
    timeout_hold: float = 3.0
    # The latency is the whole round trip, the emulator's own work inside it: a call is served as
    # it arrives, then answered when `latency` has passed since it arrived (or at once, if serving
    # took longer). Off: the latency is waited first, then the call served. A real remote serves
    # concurrent calls in parallel, within its latency; this one process serves them one after
    # another, so with it off five calls at once answer up to five services after the latency.
    # The benchmark's bound orgs turn it on (bench/bound_org.py); faults still wait the latency first.
    latency_covers_work: bool = False


class Faults:
    """Fault knobs of one server. One random draw per request, from a seeded generator."""

    def __init__(self):
        self._lock = threading.Lock()
        self.config = FaultConfig()
        self._rng = random.Random()

    def set(self, **kwargs) -> Faults:
        """Update the given knobs (others keep their values); a `seed` restarts the generator."""
        known = {f.name for f in fields(FaultConfig)}
        unknown = set(kwargs) - known
        if unknown:
            raise ValueError(f"unknown fault setting(s): {sorted(unknown)}")
        with self._lock:
            for key, value in kwargs.items():
                setattr(self.config, key, value)
            if "seed" in kwargs:
                self._rng = random.Random(kwargs["seed"])
        return self

    def clear(self) -> Faults:
        with self._lock:
            self.config = FaultConfig()
            self._rng = random.Random()
        return self

    def as_dict(self) -> dict:
        with self._lock:
            return asdict(self.config)

    def draw(self, is_write: bool, method: str = "") -> tuple[float, str]:
        """Return (latency, fault) for the next request; fault is '' for none."""
        with self._lock:
            cfg = self.config
            is_write = is_write and (not cfg.drop_method or cfg.drop_method.upper() == method)
            if not (cfg.p429 or cfg.p500 or cfg.p_timeout or cfg.p_drop_after_write):
                return cfg.latency, ""
            r = self._rng.random()
            for name, p in (
                ("fault_429", cfg.p429),
                ("fault_500", cfg.p500),
                ("fault_timeout", cfg.p_timeout),
                ("dropped_after_write", cfg.p_drop_after_write),
            ):
                if r < p:
                    if name == "dropped_after_write" and not is_write:
                        return cfg.latency, ""
                    return cfg.latency, name
                r -= p
            return cfg.latency, ""


def faults_from_env(var: str) -> dict:
    """Parse e.g. SANDBOX_VAULT_FAULTS='{"p429": 0.1, "seed": 1}'."""
    raw = os.environ.get(var, "").strip()
    if not raw:
        return {}
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError(f"{var} must be a JSON object")
    return value


def summarize_body(body: bytes) -> str:
    text = body[: BODY_SUMMARY_CHARS * 2].decode("utf-8", "replace")
    text = _SECRET_RE.sub(r"\1***", text)
    if len(text) > BODY_SUMMARY_CHARS:
        text = text[:BODY_SUMMARY_CHARS] + "…"
    return text


def _json_response(start_response, status: str, payload) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class FaultMiddleware:
    def __init__(self, app, name: str):
        self.app = app
        self.name = name
        self.faults = Faults()
        self.in_flight = InFlight(NOT_COUNTED.get(name))
        self._log: list[LogEntry] = []
        self._log_lock = threading.Lock()

    # -- log -------------------------------------------------------------------------------
    def log(self) -> list[LogEntry]:
        with self._log_lock:
            return list(self._log)

    def clear_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    def _record(self, entry: LogEntry) -> None:
        with self._log_lock:
            self._log.append(entry)

    def reset(self) -> None:
        """Fresh demo data, faults off, log cleared."""
        if hasattr(self.app, "reset"):
            self.app.reset()
        self.faults.clear()
        self.clear_log()
        self.in_flight.reset_peak()

    # -- WSGI ------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self._control(environ, start_response, path[len(CONTROL_PREFIX) :])
        if not self.in_flight.counts(path):
            return self._serve(environ, start_response, path)
        self.in_flight.enter()
        try:
            result = self._serve(environ, start_response, path)
        except BaseException:
            self.in_flight.leave()
            raise
        return self.in_flight.until_sent(result)

    def _serve(self, environ, start_response, path: str):
        method = environ["REQUEST_METHOD"].upper()
        body = _body_head(environ)
        full_path = path + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else "")
        summary = summarize_body(body)
        arrived = time.monotonic()
        latency, fault = self.faults.draw(is_write(method, path), method)
        after = latency if not fault and self.faults.config.latency_covers_work else 0.0
        if latency and not after:
            time.sleep(latency)

        if fault in ("fault_429", "fault_500"):
            status = 429 if fault == "fault_429" else 500
            self._record(LogEntry(method, full_path, summary, status, fault))
            return self._fault_response(start_response, status)
        if fault == "fault_timeout":
            # Hold the request past the client's read timeout, then hang up without an answer.
            self._record(LogEntry(method, full_path, summary, None, fault))
            time.sleep(self.faults.config.timeout_hold)
            _hang_up(environ)
            raise _Dropped()

        captured = {}

        def _capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info) if fault != "dropped_after_write" else None

        if fault == "dropped_after_write":
            # Apply the write completely, then close the socket without sending the response.
            result = self.app(environ, _capture)
            b"".join(result)
            if hasattr(result, "close"):
                result.close()
            self._record(LogEntry(method, full_path, summary, _status_code(captured), fault))
            _hang_up(environ)
            raise _Dropped()

        try:
            result = self.app(environ, _capture)
        except LostAnswer as lost:  # a hook lost this answer (sandbox/hooks.py `lose`)
            outcome = "lost_applied" if lost.applied else "lost_not_applied"
            self._record(LogEntry(method, full_path, summary, _status_code(captured), outcome))
            _hang_up(environ)
            raise _Dropped() from None
        self._record(LogEntry(method, full_path, summary, _status_code(captured), "ok"))
        if after:  # the rest of the round trip (latency_covers_work)
            time.sleep(max(0.0, arrived + after - time.monotonic()))
        return result

    def _fault_response(self, start_response, status: int):
        custom = getattr(self.app, "fault_response", None)
        if custom is not None:
            return custom(status, start_response)
        label = "429 Too Many Requests" if status == 429 else "500 Internal Server Error"
        return _json_response(start_response, label, {"error": label, "sandbox_fault": True})

    def _control(self, environ, start_response, action: str):
        method = environ["REQUEST_METHOD"].upper()
        body = _read_body(environ)
        if action == "faults":
            return self._control_faults(start_response, method, body)
        if action == "log":
            if method == "DELETE":
                self.clear_log()
            return _json_response(start_response, "200 OK", [asdict(e) for e in self.log()])
        if action == "reset" and method == "POST":
            self.reset()
            return _json_response(start_response, "200 OK", {"reset": True})
        if action == "in_flight":
            if method == "DELETE":
                self.in_flight.reset_peak()
            return _json_response(start_response, "200 OK", self.in_flight.as_dict())
        if action == "expire_sessions" and method == "POST" and hasattr(self.app, "expire_sessions"):
            self.app.expire_sessions()
            return _json_response(start_response, "200 OK", {"expired": True})
        return _json_response(start_response, "404 Not Found", {"error": f"unknown control {action}"})

    def _control_faults(self, start_response, method: str, body: bytes):
        if method == "POST":
            try:
                settings = json.loads(body or b"{}")
                if settings.pop("clear", False):
                    self.faults.clear()
                self.faults.set(**settings)
            except (ValueError, TypeError) as exc:
                return _json_response(start_response, "400 Bad Request", {"error": str(exc)})
        return _json_response(start_response, "200 OK", self.faults.as_dict())


def _status_code(captured: dict) -> int | None:
    status = captured.get("status")
    return int(status.split()[0]) if status else None


def _read_body(environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _body_head(environ) -> bytes:
    """The start of the body, for the log, leaving the whole body for the app to read (a file
    upload's body is spooled to disk, see `_spooled`)."""
    stream = environ["wsgi.input"]
    if not hasattr(stream, "seek"):
        body = _read_body(environ)
        environ["wsgi.input"] = BytesIO(body)
        return body
    head = stream.read(BODY_SUMMARY_CHARS * 2)
    stream.seek(0)
    return head


def _spooled(rfile, length: int):
    """The request body, read before the app runs (so an app that ignores it leaves no bytes for
    the next request): in memory when small, else on disk (file uploads), a chunk at a time."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (closed with the request)
    while length > 0:
        chunk = rfile.read(min(64 * 1024, length))
        if not chunk:
            break
        spool.write(chunk)
        length -= len(chunk)
    spool.seek(0)
    return spool


def _hang_up(environ) -> None:
    sock = environ.get("sandbox.socket")
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


# -- the server ------------------------------------------------------------------------------


class _Handler(ServerHandler):
    http_version = "1.1"
    dropped = False
    keep_alive = False  # decided when the headers go out (run() clears them afterwards)

    def cleanup_headers(self):
        super().cleanup_headers()
        self.keep_alive = "Content-Length" in self.headers
        if not self.keep_alive:
            # The body ends when the connection does: say so, or a client would reuse it.
            self.headers["Connection"] = "close"

    def handle_error(self):
        if isinstance(sys.exc_info()[1], _Dropped):
            self.dropped = True
            return  # socket already shut down; nothing to send or log
        super().handle_error()


class _RequestHandler(WSGIRequestHandler):
    """HTTP/1.1 with keep-alive, as Vault's and Zoho's servers answer: a client reuses its
    connection instead of connecting for every call (wsgiref alone closes after each request)."""

    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle connection is closed after a minute, as real servers do

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold each answer on a kept-alive connection for ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection)

    def finish(self):
        self.server.untrack(self.connection)
        super().finish()

    def get_environ(self):
        env = super().get_environ()
        env["sandbox.socket"] = self.connection
        return env

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass

    def handle(self):
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection:
            self.handle_one_request()

    def handle_one_request(self):
        # WSGIRequestHandler.handle for one request, with the body read up front (so an app that
        # ignores it can't leave bytes for the next request) and a handler silent on _Dropped.
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except OSError:  # idle timeout, or the client went away
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            self.close_connection = True
            return
        if not self.parse_request():
            self.close_connection = True
            return
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # not needed by our clients; read what the app reads, then close
            body = None
        else:
            try:
                length = max(0, int(self.headers.get("Content-Length") or 0))
            except ValueError:
                length = 0
            body = _spooled(self.rfile, length)
        stdin = body if body is not None else self.rfile
        handler = _Handler(stdin, self.wfile, self.get_stderr(), self.get_environ(), multithread=True)
        handler.request_handler = self
        handler.run(self.server.get_app())
        if handler.dropped or not handler.keep_alive:
            self.close_connection = True  # see _Handler.cleanup_headers


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, *args, **kwargs):
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def track(self, sock) -> None:
        with self._open_lock:
            self._open.add(sock)

    def untrack(self, sock) -> None:
        with self._open_lock:
            self._open.discard(sock)

    def close_open_connections(self) -> None:
        """A stopped server must not keep answering on kept-alive connections."""
        with self._open_lock:
            open_now = list(self._open)
        for sock in open_now:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass  # a client that hung up (or a dropped connection) is not an error here


class ServerThread:
    """One WSGI app served on host:port in a background thread."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        self.httpd = _ThreadingServer((host, port), _RequestHandler)
        self.httpd.set_app(app)
        host_, port_ = self.httpd.server_address[:2]
        self.host, self.port = str(host_), int(port_)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd.close_open_connections()
        self.thread.join(timeout=5)


def unavailable_app(environ, start_response):
    """Stand-in while an emulator is not importable."""
    return _json_response(start_response, "503 Service Unavailable", {"error": "emulator not available"})


class Sandbox:
    """Both emulators on loopback; see docs/architecture.md ("Sandbox")."""

    def __init__(self, vault, zoho, vault_mw, zoho_mw, vault_server, zoho_server):
        self.vault, self.zoho = vault, zoho
        self._mw = {"vault": vault_mw, "zoho": zoho_mw}
        self._servers = [vault_server, zoho_server]
        self.vault_url, self.zoho_url = vault_server.url, zoho_server.url

    @classmethod
    def start(
        cls,
        *,
        host: str = "127.0.0.1",
        vault_port: int = 0,
        zoho_port: int = 0,
        vault_settings: dict | None = None,
        zoho_settings=None,
        copy_keys: bool = True,
        org: str = "main",
    ) -> Sandbox:
        """Both emulators; `copy_keys=False` serves the demo data without copy-key fields (the
        `copy_keys` setting of each, kept across reset()); `org="target"`: the second vault and
        Zoho org, where copies between profiles go (sandbox/target_org.py)."""
        from sandbox.vault import VaultApp, VaultSettings

        vault = VaultApp(VaultSettings(**{**(vault_settings or {}), "copy_keys": copy_keys, "org": org}))
        from sandbox.zoho import ZohoApp, ZohoSettings

        if isinstance(zoho_settings, ZohoSettings):
            zoho_settings = zoho_settings.updated(copy_keys=copy_keys, org=org)
        else:
            zoho_settings = {**(zoho_settings or {}), "copy_keys": copy_keys, "org": org}
        zoho = ZohoApp(settings=zoho_settings)

        from sandbox.hooks import HookMiddleware

        vault_mw = FaultMiddleware(HookMiddleware(vault), "vault")
        zoho_mw = FaultMiddleware(HookMiddleware(zoho if zoho is not None else unavailable_app), "zoho")
        vault_mw.faults.set(**faults_from_env("SANDBOX_VAULT_FAULTS"))
        zoho_mw.faults.set(**faults_from_env("SANDBOX_ZOHO_FAULTS"))
        vault_server = ServerThread(vault_mw, host, vault_port).start()
        zoho_server = ServerThread(zoho_mw, host, zoho_port).start()
        if zoho is not None and hasattr(zoho, "base_url"):
            zoho.base_url = zoho_server.url
        if hasattr(vault, "base_url"):
            vault.base_url = vault_server.url
        return cls(vault, zoho, vault_mw, zoho_mw, vault_server, zoho_server)

    @property
    def copy_keys(self) -> bool:
        """Whether the demo data is served with copy-key fields (Sandbox.start(copy_keys=...))."""
        return bool(self.vault.settings.copy_keys)

    def set_clock_skew(self, seconds: float, name: str | None = None) -> None:
        """Make the emulator `name` (both when None) run `seconds` ahead of our clock (negative:
        behind): its records' created/modified times and its answers' Date header. Until reset()."""
        if name in (None, "vault"):
            self.vault.configure(clock_skew=seconds)
        if name in (None, "zoho") and self.zoho is not None:
            self.zoho.settings = self.zoho.settings.updated(clock_skew=seconds)

    def faults(self, name: str) -> Faults:
        return self._mw[name].faults

    def log(self, name: str) -> list[LogEntry]:
        return self._mw[name].log()

    def in_flight(self, name: str) -> InFlight:
        """The calls in flight at that server now and their peak (`.now`, `.peak`, `.reset_peak()`)."""
        return self._mw[name].in_flight

    def hooks(self, name: str):
        """Events at a moment: `sb.hooks("vault").after(...)` / `.hold(...)`; see sandbox/hooks.py."""
        return self._mw[name].app.hooks

    def clear_log(self, name: str | None = None) -> None:
        for key in [name] if name else list(self._mw):
            self._mw[key].clear_log()

    def reset(self) -> None:
        """Fresh deterministic demo data, faults off, log cleared (both servers)."""
        for mw in self._mw.values():
            mw.reset()

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
        for app in (self.vault, self.zoho):
            if app is not None and hasattr(app, "shutdown"):
                app.shutdown()
