"""The users' HTTP side: a small keep-alive HTTP/1.1 client on asyncio (GET only) and the timings
it collects per page."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

LOCKED = b"database is locked"


class Connection:
    """One user's keep-alive connection: GET only, Content-Length or chunked bodies."""

    def __init__(self, host: str, port: int, cookie: str):
        self.host, self.port, self.cookie = host, port, cookie
        self.reader = self.writer = None

    async def get(self, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
        for attempt in (1, 2):
            reused = self.writer is not None
            if not reused:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            try:
                return await self._exchange(path, headers or {})
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                # A server may close an idle keep-alive connection just as we reuse it: retry once.
                if not reused or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, path, headers) -> tuple[int, dict, bytes]:
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Cookie: sessionid={self.cookie}",
            "Connection: keep-alive",
        ] + [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("closed before the answer")
        status = int(status_line.split()[1])
        head = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            head[name.strip().lower()] = value.strip()
        if status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "content-length" in head:
            body = await self.reader.readexactly(int(head["content-length"]))
        elif head.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked()
        else:
            body = await self.reader.read()
            head["connection"] = "close"
        if head.get("connection", "").lower() == "close":
            self.close()
        return status, head, body

    async def _chunked(self) -> bytes:
        parts = []
        while size := int((await self.reader.readline()).split(b";")[0], 16):
            parts.append(await self.reader.readexactly(size))
            await self.reader.readline()
        while (await self.reader.readline()) not in (b"\r\n", b""):
            pass
        return b"".join(parts)

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Stats:
    """Response times per page (the report's rows), 304s per page, errors and lock messages."""

    def __init__(self):
        self.times: dict[str, list[float]] = defaultdict(list)
        self.not_modified: dict[str, int] = defaultdict(int)
        self.errors: list[str] = []
        self.locked = 0

    async def fetch(self, conn: Connection, kind: str, path: str, headers=None, ok=(200, 304)):
        t0 = time.perf_counter()
        try:
            status, head, body = await asyncio.wait_for(conn.get(path, headers), timeout=30)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            conn.close()
            self.times[kind].append(time.perf_counter() - t0)
            self.errors.append(f"{kind} {type(exc).__name__}")
            return None, {}, b""
        self.times[kind].append(time.perf_counter() - t0)
        self.not_modified[kind] += status == 304
        if status not in ok:
            self.errors.append(f"{kind} {status}")
        self.locked += LOCKED in body
        return status, head, body


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]
