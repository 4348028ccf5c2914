"""The one HTTP seam (records/connectors/http.py) against a real loopback server."""

import datetime as dt
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from records.connectors.errors import ConfigurationError, OutcomeUnknown, RateLimited, Unavailable
from records.connectors.http import HttpClient


class Script:
    """What the server does for each request, in order; the last step repeats."""

    def __init__(self):
        self.steps = ["ok"]
        self.seen = []  # (method, path, body)
        self.lock = threading.Lock()

    def next(self, method, path, body):
        with self.lock:
            self.seen.append((method, path, body))
            return self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        step = self.server.script.next(self.command, self.path, body)
        if step == "ok":
            return self._send(200, b'{"ok": true}')
        if step == "slow":
            time.sleep(1.0)
            return self._send(200, b'{"ok": "late"}')
        if step == "drop":  # read the request, then hang up without an answer
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return None
        if step == "broken_body":  # promise 100 bytes, send 5, hang up
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b'64\r\n{"ok"')
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return None
        if step.startswith("status:"):
            code = int(step.split(":")[1])
            headers = {"Retry-After": "0.01"} if code == 429 else {}
            return self._send(code, b'{"error": true}', headers)
        if step.startswith("redirect:"):
            return self._send(302, b"", {"Location": step.split(":", 1)[1]})
        raise AssertionError(step)

    def _send(self, code, body, headers=None):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _handle


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.script = Script()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def other_server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.script = Script()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


def client(url, **kwargs):
    kwargs.setdefault("timeout", (1.0, 0.3))
    kwargs.setdefault("sleep", Sleeps())
    return HttpClient(url, **kwargs)


def test_it_returns_the_response(server):
    http = client(server.url)
    response = http.request("GET", "api/x", safe=True)
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert server.script.seen == [("GET", "/api/x", b"")]


def test_a_safe_call_is_retried_after_a_read_timeout_then_gives_up(server):
    server.script.steps = ["slow"]
    http = client(server.url, max_attempts=3)
    with pytest.raises(Unavailable) as info:
        http.request("GET", "api/x", safe=True)
    assert info.value.error_type == "TIMEOUT"
    assert len(server.script.seen) == 3
    assert len(http.sleep) == 2  # backed off between the tries


def test_a_safe_call_recovers_after_a_timeout(server):
    server.script.steps = ["slow", "ok"]
    response = client(server.url).request("GET", "api/x", safe=True)
    assert response.json() == {"ok": True}
    assert len(server.script.seen) == 2


def test_a_write_that_timed_out_is_not_resent(server):
    server.script.steps = ["slow", "ok"]
    with pytest.raises(OutcomeUnknown):
        client(server.url).request("POST", "api/x", safe=False, data=b"[1]")
    assert len(server.script.seen) == 1


def test_a_write_whose_answer_was_dropped_raises_outcome_unknown(server):
    server.script.steps = ["drop", "ok"]
    with pytest.raises(OutcomeUnknown) as info:
        client(server.url).request("POST", "api/x", safe=False, data=b"[1]")
    assert info.value.retryable
    assert server.script.seen == [("POST", "/api/x", b"[1]")]


def test_a_write_whose_answer_broke_off_raises_outcome_unknown(server):
    server.script.steps = ["broken_body", "ok"]
    with pytest.raises(OutcomeUnknown):
        client(server.url).request("POST", "api/x", safe=False, data=b"[1]")
    assert len(server.script.seen) == 1


def test_a_safe_call_is_retried_after_a_dropped_connection(server):
    server.script.steps = ["drop", "broken_body", "ok"]
    response = client(server.url).request("GET", "api/x", safe=True)
    assert response.json() == {"ok": True}
    assert len(server.script.seen) == 3


@pytest.mark.parametrize("code", [500, 502, 503, 504])
def test_a_safe_call_is_retried_on_5xx(server, code):
    server.script.steps = [f"status:{code}", "ok"]
    response = client(server.url).request("GET", "api/x", safe=True)
    assert response.status_code == 200
    assert len(server.script.seen) == 2


def test_a_safe_call_returns_the_last_5xx(server):
    server.script.steps = ["status:503"]
    response = client(server.url, max_attempts=3).request("GET", "api/x", safe=True)
    assert response.status_code == 503
    assert len(server.script.seen) == 3


def test_a_write_is_not_retried_on_5xx(server):
    server.script.steps = ["status:500", "ok"]
    response = client(server.url).request("POST", "api/x", safe=False, data=b"[1]")
    assert response.status_code == 500
    assert len(server.script.seen) == 1


def test_a_write_refused_with_429_is_retried_after_retry_after(server):
    server.script.steps = ["status:429", "ok"]
    http = client(server.url)
    response = http.request("POST", "api/x", safe=False, data=b"[1]")
    assert response.status_code == 200
    assert len(server.script.seen) == 2
    assert http.sleep == [0.01]


def test_429_storm_ends_in_rate_limited(server):
    server.script.steps = ["status:429"]
    with pytest.raises(RateLimited) as info:
        client(server.url, max_attempts=4).request("GET", "api/x", safe=True)
    assert info.value.retry_after == pytest.approx(0.01)
    assert len(server.script.seen) == 4


def test_redirects_are_never_followed(server, other_server):
    server.script.steps = [f"redirect:{other_server.url}/steal"]
    with pytest.raises(ConfigurationError) as info:
        client(server.url).request("GET", "api/x", safe=True)
    assert info.value.error_type == "REDIRECT"
    assert other_server.script.seen == []
    assert len(server.script.seen) == 1


def test_same_host_redirects_are_not_followed_either(server):
    server.script.steps = ["redirect:/api/y", "ok"]
    with pytest.raises(ConfigurationError):
        client(server.url).request("POST", "api/x", safe=False)
    assert len(server.script.seen) == 1


def test_it_refuses_urls_outside_the_profiles_hosts(server, other_server):
    http = client(server.url)
    with pytest.raises(ConfigurationError):
        http.request("GET", f"{other_server.url}/api/x", safe=True)
    assert other_server.script.seen == []


def test_it_accepts_absolute_urls_on_its_own_hosts(server, other_server):
    http = client(server.url, other_origins=(other_server.url,))
    assert http.request("GET", f"{other_server.url}/token", safe=True).status_code == 200
    assert http.request("GET", f"{server.url}/api/next?page=2", safe=True).status_code == 200


def test_a_refused_connection_is_retried_even_for_a_write_then_unavailable():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps = Sleeps()
    http = client(f"http://127.0.0.1:{port}", max_attempts=2, sleep=sleeps)
    with pytest.raises(Unavailable) as info:
        http.request("POST", "api/x", safe=False, data=b"[1]")
    assert info.value.error_type == "CONNECTION_FAILED"
    assert len(sleeps) == 1  # tried twice, one backoff between: never sent, so trying again is safe


def test_environment_proxies_are_ignored(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    assert client(server.url).request("GET", "api/x", safe=True).status_code == 200


def test_every_call_has_a_timeout(server):
    """The client's read timeout, or a call's own, reaches the socket: an answer slower than it
    (the server takes 1 s) is a TIMEOUT, not a wait. Seen from outside; requests isn't patched."""
    from records.connectors.http import DEFAULT_TIMEOUT

    assert HttpClient(server.url).timeout == DEFAULT_TIMEOUT == (5.0, 120.0)
    server.script.steps = ["slow"]
    calls = [
        lambda: HttpClient(server.url, timeout=(2, 0.3), max_attempts=1).request("GET", "api/x", safe=True),
        lambda: HttpClient(server.url, max_attempts=1).request("GET", "api/x", safe=True, timeout=(2, 0.3)),
    ]
    for call in calls:
        started = time.monotonic()
        with pytest.raises(Unavailable) as info:
            call()
        assert info.value.error_type == "TIMEOUT" and time.monotonic() - started < 0.9
    # A call's own longer timeout wins over the client's short one.
    late = HttpClient(server.url, timeout=(2, 0.3)).request("GET", "api/x", safe=True, timeout=(2, 3))
    assert late.json() == {"ok": "late"}


def test_backoff_is_bounded_and_jittered():
    http = HttpClient("http://127.0.0.1:1", backoff=0.5, max_backoff=4)
    delays = [http.delay(n) for n in range(1, 12) for _ in range(20)]
    assert all(0 <= d <= 4 for d in delays)
    assert len(set(delays)) > 10


# -- the remote's clock ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Dec 2026 02:03:04 GMT",  # RFC 7231 IMF-fixdate
        "Sunday, 06-Dec-26 02:03:04 GMT",  # obsolete RFC 850
        "Sun Dec  6 02:03:04 2026",  # obsolete asctime
        "Sun, 06 Dec 2026 03:03:04 +0100",
    ],
)
def test_http_dates_in_every_rfc_7231_form_are_read_as_utc(value):
    from records.connectors.http import parse_http_date

    assert parse_http_date(value) == dt.datetime(2026, 12, 6, 2, 3, 4, tzinfo=dt.UTC)


@pytest.mark.parametrize("value", [None, "", "yesterday", "Sun, 99 Foo 2026 25:61:61 GMT", "0"])
def test_a_missing_or_unreadable_date_is_none(value):
    from records.connectors.http import parse_http_date

    assert parse_http_date(value) is None
