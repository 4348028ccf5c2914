"""Concurrency slots of a connection profile, shared by every worker process through Redis.

Zoho counts the calls in flight per org and app (api-notes zoho.md §9) and answers 429 beyond the
edition's limit; `ProfileConfig.concurrency` is that limit for the profile, across all workers on
all machines. `RedisSlots` is a counting semaphore kept in Redis:

- one sorted set per profile (`rc:slots:<key>`), members = holder tokens, score = lease expiry in
  milliseconds of the Redis server's clock (one clock for every machine, no skew);
- acquire = one Lua script: drop expired holders, add ours if fewer than `limit` remain;
  release = ZREM;
- a holder whose process died (SIGKILL, OOM, lost machine) never releases: its lease runs out and
  the next acquire drops it. A live holder whose call outlasts the lease (retries with backoff)
  keeps its slot: a renewer thread extends the leases of the slots this process holds;
- waiting = short sleeps with jitter, bounded by `wait_timeout`, then `RateLimited`.

The in-process semaphore stays in front of Redis: threads of one process (concurrent Notes reads,
parallel clones) wait on it without polling Redis, the process itself never has more than `limit`
calls in flight, and it is the whole limit when Redis is unreachable. A copy never fails because
the limiter's Redis hiccuped: the call goes ahead under the local limit only, the outage is logged
once, and Redis is tried again after `retry_down` seconds.

No Django here: the caller passes the Redis connection (records/connectors/__init__.py wires the
django-rq one). `profile_gate()` builds the gate a connector holds around each call.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
import uuid
from typing import Any, Literal

from redis.exceptions import RedisError

from records.connectors.errors import RateLimited

log = logging.getLogger(__name__)

KEY_PREFIX = "rc:slots:"

# KEYS[1] the holders; ARGV: token, limit, lease (ms). Returns 1 when the slot is ours, else 0.
# The key itself expires with its last lease, so an idle profile leaves nothing behind.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1
"""

# KEYS[1] the holders; ARGV: lease (ms), tokens... Extends the leases of those still held (expired
# holders are dropped first and XX never adds, so a token whose lease ran out is not brought back). Returns how many were extended.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ = now + tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local n = 0
for i = 2, #ARGV do
  n = n + redis.call('ZADD', KEYS[1], 'XX', 'CH', until_, ARGV[i])
end
if redis.call('ZCARD', KEYS[1]) > 0 then
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', KEYS[1], last[2])
end
return n
"""

_down_lock = threading.Lock()
_down_warned = False  # one warning per outage and process, not one per call


def _redis_errors() -> tuple[type[BaseException], ...]:
    return (RedisError, OSError)


def _note_down(exc: BaseException) -> None:
    global _down_warned
    with _down_lock:
        if _down_warned:
            return
        _down_warned = True
    log.warning(
        "The concurrency limiter's Redis is unreachable (%s); calls are limited per process only until it is back.",
        type(exc).__name__,
    )


def _note_up() -> None:
    global _down_warned
    with _down_lock:
        if not _down_warned:
            return
        _down_warned = False
    log.info("The concurrency limiter's Redis is back; the limit holds across workers again.")


def _acquire_local(local: threading.Semaphore, wait_timeout: float) -> None:
    if not local.acquire(timeout=wait_timeout):
        raise RateLimited(
            "No free concurrency slot for this profile in time.", error_type="CONCURRENCY_SLOTS", retry_after=1.0
        )


class RedisSlots:
    """`with slots:` holds one of the profile's `limit` slots for the duration of the block.

    One object may be shared by many threads (each gets its own holder token); not re-entrant."""

    def __init__(
        self,
        redis: Any,
        key: str,
        limit: int,
        *,
        local: threading.Semaphore | None = None,
        lease: float = 120.0,
        wait_timeout: float = 600.0,
        poll: tuple[float, float] = (0.005, 0.05),
        retry_down: float = 15.0,
    ) -> None:
        self.redis = redis
        self.key = KEY_PREFIX + key
        self.limit = max(1, int(limit))
        self.local = local if local is not None else threading.BoundedSemaphore(self.limit)
        self.lease = float(lease)
        self.wait_timeout = float(wait_timeout)
        self.poll = poll
        self.retry_down = retry_down
        # redis-py's Script objects (callables); the package has no type information.
        self._acquire_script: Any = redis.register_script(_ACQUIRE) if redis is not None else None
        self._renew_script: Any = redis.register_script(_RENEW) if redis is not None else None
        self._errors = _redis_errors()
        self._mine = threading.local()  # this thread's token (None: holding the local slot only)
        self._held: set[str] = set()
        self._held_lock = threading.Lock()
        self._renewer: threading.Thread | None = None
        self._down_until = 0.0

    def __repr__(self) -> str:
        return f"RedisSlots(key={self.key!r}, limit={self.limit})"

    # -- the context manager `ZohoApi.call` uses -----------------------------------------------
    def __enter__(self) -> RedisSlots:
        deadline = time.monotonic() + self.wait_timeout
        _acquire_local(self.local, self.wait_timeout)
        try:
            self._mine.token = self._acquire_shared(deadline)
        except BaseException:
            self.local.release()
            raise
        return self

    def __exit__(self, *exc_info: object) -> Literal[False]:
        token, self._mine.token = getattr(self._mine, "token", None), None
        try:
            if token is not None:
                with self._held_lock:
                    self._held.discard(token)
                try:
                    self.redis.zrem(self.key, token)
                except self._errors:
                    pass  # the lease frees it; nothing to do for the caller
        finally:
            self.local.release()
        return False

    # -- the shared slot --------------------------------------------------------------------------
    def try_acquire(self, token: str) -> bool:
        """One attempt of the acquire script (raises the Redis client's errors)."""
        lease_ms = max(1, int(self.lease * 1000))
        return bool(self._acquire_script(keys=[self.key], args=[token, self.limit, lease_ms]))

    def holders(self) -> int:
        return int(self.redis.zcard(self.key))

    def _acquire_shared(self, deadline: float) -> str | None:
        if self.redis is None or time.monotonic() < self._down_until:
            return None
        token = uuid.uuid4().hex
        delay = self.poll[0]
        while True:
            try:
                ok = self.try_acquire(token)
            except self._errors as exc:
                self._down_until = time.monotonic() + self.retry_down
                _note_down(exc)
                return None  # go ahead under the local limit
            _note_up()
            if ok:
                self._hold(token)
                return token
            now = time.monotonic()
            if now >= deadline:
                raise RateLimited(
                    "No free concurrency slot for this profile in time (other workers hold them).",
                    error_type="CONCURRENCY_SLOTS",
                    retry_after=1.0,
                )
            # Full jitter, growing to poll[1]: waiters on many machines don't retry in lockstep.
            jitter = random.uniform(self.poll[0], delay)  # noqa: S311 (not a secret)
            time.sleep(min(jitter, max(0.0, deadline - now)))
            delay = min(self.poll[1], delay * 2)

    # -- lease renewal ---------------------------------------------------------------------------
    def _hold(self, token: str) -> None:
        with self._held_lock:
            self._held.add(token)
            if self._renewer is None:
                self._renewer = threading.Thread(target=self._renew_loop, name=f"slots-renew {self.key}", daemon=True)
                self._renewer.start()

    def _renew_loop(self) -> None:
        interval = max(0.05, self.lease / 3)
        while True:
            time.sleep(interval)
            with self._held_lock:
                tokens = list(self._held)
                if not tokens:
                    self._renewer = None  # the next _hold starts another one
                    return
            try:
                renewed = self._renew_script(keys=[self.key], args=[max(1, int(self.lease * 1000)), *tokens])
            except self._errors:
                continue  # Redis away: the leases may run out; calls go on, as when it is down
            if int(renewed) < len(tokens):
                # Only if this process stalled longer than the lease: another worker may have
                # taken the slot meanwhile, so for a moment there may be one call too many.
                log.warning("A concurrency slot of %s expired while its call was still running.", self.key)


# The process's semaphores, one per profile key and limit: the threads of one process queue here
# cheaply, and it is the whole limit when there is no Redis (unit tests, scripts) or it is down.
_SEMAPHORES: dict[tuple[Any, ...], threading.BoundedSemaphore] = {}
_SEMAPHORES_LOCK = threading.Lock()


def _process_semaphore(key: tuple[Any, ...], size: int) -> threading.BoundedSemaphore:
    with _SEMAPHORES_LOCK:
        sem = _SEMAPHORES.get((key, size))
        if sem is None:
            sem = _SEMAPHORES[(key, size)] = threading.BoundedSemaphore(max(1, size))
        return sem


def profile_gate(
    key: tuple[Any, ...], size: int, redis: Any, *, lease: float
) -> threading.BoundedSemaphore | RedisSlots:
    """The gate a connector holds around each request (a context manager): the process's semaphore
    for the profile, and with a Redis connection the profile's slots shared by every worker
    (keyed by a digest of `key`, so no secret reaches Redis). Zoho's §9 concurrency limit."""
    local = _process_semaphore(key, size)
    if redis is None:
        return local
    name = "zoho:" + hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    return RedisSlots(redis, name, size, local=local, lease=lease)
