"""Events at a chosen moment of a conversation with an emulator, for tests that must not patch the
client: run a callback after a matching request was processed (expire sessions after each poll,
tokens after each write), hold a matching request's answer after it was processed (the server
has done the work; the client has not heard yet) until the test releases it, or answer matching
requests with a given JSON body instead of the emulator (a service of the system that is down or
answers oddly), or lose a matching request's answer (the connection closed without one), after
processing it or without (a lost answer applied or not, on exactly the request a test names).

`HookMiddleware` sits between the fault middleware and the emulator, so a hook sees only the
requests that reached the emulator, and the request log records a held request once it is answered.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

# A held request gives up after this long, so a test that forgets to release can't hang the server.
HOLD_TIMEOUT = 60.0


@dataclass
class _Hook:
    method: str  # "GET", "POST", ... or "*"
    path: re.Pattern[str]  # searched in PATH_INFO (no query string)
    times: int | None  # how many matching requests it still fires for; None: all
    callback: Callable[[], object] | None = None
    hold: Hold | None = None
    answer: object = None  # JSON sent instead of the emulator's answer (the request isn't processed)
    lose: bool | None = None  # the answer is lost: True after processing the request, False without

    def matches(self, method: str, path: str) -> bool:
        return self.times != 0 and self.method in ("*", method) and self.path.search(path) is not None


@dataclass
class Hold:
    """A held answer: `reached` is set once a matching request was processed; it is answered when
    `release()` is called (or after HOLD_TIMEOUT)."""

    reached: threading.Event = field(default_factory=threading.Event)
    _go: threading.Event = field(default_factory=threading.Event)

    def wait(self, timeout: float) -> bool:
        """True once a matching request was processed (its answer now held)."""
        return self.reached.wait(timeout)

    def release(self) -> None:
        self._go.set()

    def _block(self) -> None:
        self.reached.set()
        self._go.wait(HOLD_TIMEOUT)


class LostAnswer(Exception):  # noqa: N818 - an event, not an error
    """Raised to the fault middleware, which logs the request and hangs up without an answer."""

    def __init__(self, applied: bool):
        super().__init__("applied" if applied else "not applied")
        self.applied = applied


class Hooks:
    """The hooks of one server; thread-safe; cleared by the sandbox's reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hooks: list[_Hook] = []

    def after(self, method: str, path: str, callback: Callable[[], object], *, times: int | None = None) -> None:
        """Run `callback()` after each request matching `method` and the regex `path` was processed,
        before it is answered (the first `times` of them, or all)."""
        with self._lock:
            self._hooks.append(_Hook(method.upper(), re.compile(path), times, callback=callback))

    def hold(self, method: str, path: str, *, times: int = 1) -> Hold:
        """Hold the answer of the next `times` matching requests (processed first) until released."""
        hold = Hold()
        with self._lock:
            self._hooks.append(_Hook(method.upper(), re.compile(path), times, hold=hold))
        return hold

    def answer(self, method: str, path: str, payload: object, *, times: int | None = None) -> None:
        """Answer matching requests (the first `times`, or all) with `payload` as JSON, HTTP 200
        (as Vault answers its FAILUREs), without the emulator seeing them."""
        with self._lock:
            self._hooks.append(_Hook(method.upper(), re.compile(path), times, answer=payload))

    def lose(self, method: str, path: str, *, applied: bool, times: int = 1) -> None:
        """Lose the answer of the next `times` matching requests: the connection is closed without
        one, after the request was processed (`applied`) or without processing it."""
        with self._lock:
            self._hooks.append(_Hook(method.upper(), re.compile(path), times, lose=applied))

    def _lost(self, method: str, path: str, *, applied: bool) -> bool:
        with self._lock:
            for hook in self._hooks:
                if hook.lose is applied and hook.matches(method, path):
                    hook.times = None if hook.times is None else hook.times - 1
                    return True
        return False

    def canned(self, method: str, path: str) -> object:
        """The payload a matching `answer` hook sends for this request, else None."""
        with self._lock:
            for hook in self._hooks:
                if hook.answer is not None and hook.matches(method, path):
                    if hook.times is not None:
                        hook.times -= 1
                    return hook.answer
        return None

    def clear(self) -> None:
        with self._lock:
            hooks, self._hooks = self._hooks, []
        for hook in hooks:
            if hook.hold is not None:
                hook.hold.release()

    def fire(self, method: str, path: str) -> None:
        """Run what matches this processed request (in the server thread answering it)."""
        due = []
        with self._lock:
            for hook in self._hooks:
                if hook.answer is None and hook.lose is None and hook.matches(method, path):
                    if hook.times is not None:
                        hook.times -= 1
                    due.append(hook)
        for hook in due:
            if hook.callback is not None:
                hook.callback()
            if hook.hold is not None:
                hook.hold._block()


class HookMiddleware:
    """Wraps an emulator: processes the request completely, fires the hooks, then answers.
    Everything else (reset, expire_sessions, fault_response, ...) is the emulator's."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.hooks = Hooks()

    def __getattr__(self, name: str) -> Any:
        if name == "app":  # not set yet (e.g. while copying): don't recurse
            raise AttributeError(name)
        return getattr(self.app, name)

    def reset(self) -> None:
        self.hooks.clear()
        if hasattr(self.app, "reset"):
            self.app.reset()

    def _streamed(self, result: Iterable[bytes], method: str, path: str) -> Iterable[bytes]:
        """A file download, streamed (never joined in memory): its hooks fire before it is sent."""
        self.hooks.fire(method, path)
        if self.hooks._lost(method, path, applied=True):
            if hasattr(result, "close"):
                result.close()
            raise LostAnswer(applied=True)
        return result

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"].upper(), environ.get("PATH_INFO", "")
        if self.hooks._lost(method, path, applied=False):
            raise LostAnswer(applied=False)
        payload = self.hooks.canned(method, path)
        if payload is not None:
            body = json.dumps(payload).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        result = self.app(environ, start_response)
        if not isinstance(result, list):
            return self._streamed(result, method, path)
        try:
            # The whole body now: the emulator's work is done before any hook fires. The server
            # sends the status and headers only with the first body bytes, so a hold delays all.
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        self.hooks.fire(method, path)
        if self.hooks._lost(method, path, applied=True):
            raise LostAnswer(applied=True)
        return [body]
