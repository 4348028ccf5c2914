"""Veeva Vault's asynchronous jobs: starting a deep copy or a cascade delete, polling the job's
status no sooner than Vault allows (PollTimes), and reading a deep copy's result files.

Facts and sources: ../shared/api-notes/vault.md (section numbers below refer to it).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from records.connectors import vault_parse as vp
from records.connectors import vault_result_files as files
from records.connectors.base import DeepCopyRow, RemoteJob
from records.connectors.errors import NotFound, RateLimited, Rejected, Unavailable
from records.connectors.vault_api import VaultApi

DEFAULT_POLL_INTERVAL = 10.0  # §5.2: at most one job-status call per 10 s per job


class PollTimes:
    """When each Vault job was last polled, keyed by (Vault, job id) (§5.2). One per process by
    default (`POLL_TIMES`), passed to every connector, so a connector built for a resumed run does
    not poll sooner than the last one did."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], float] = {}

    def reserve(self, key: tuple[str, str], interval: float) -> float:
        """Reserve the next poll of `key`; return how long to wait for it. The slot is taken
        before the caller sleeps, so concurrent pollers queue behind each other."""
        with self._lock:
            last = self._last.get(key)
            now = self.clock()
            wait = 0.0 if last is None else last + interval - now
            self._last[key] = max(now, now + wait)
        return wait

    def clear(self) -> None:
        with self._lock:
            self._last.clear()


POLL_TIMES = PollTimes()


class VaultJobs:
    """Starts and follows the Vault's jobs for one profile."""

    def __init__(self, api: VaultApi, *, poll_interval: float, polls: PollTimes, sleep: Callable[[float], None]):
        self.api = api
        self.poll_interval = poll_interval
        self.polls = polls
        self.sleep = sleep

    def start_deep_copy(self, object_name: str, record_id: str, overrides: dict[str, Any]) -> str:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/deep-copy-object-record/
        kwargs: dict[str, Any] = {}
        if overrides:
            # Exactly one row of overrides for the top record; "" blanks a field on the copy.
            row = {k: ("" if v is None else v) for k, v in overrides.items()}
            kwargs = {
                "data": json.dumps([row], default=vp.json_default).encode(),
                "headers": {"Content-Type": "application/json"},
            }
        return self._start(object_name, record_id, "deepcopy", **kwargs)

    def start_cascade_delete(self, object_name: str, record_id: str) -> str:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/cascade-delete-object-record/
        return self._start(object_name, record_id, "cascadedelete")

    def _start(self, object_name: str, record_id: str, action: str, **kwargs: Any) -> str:
        if not vp.is_record_id(str(record_id or "")):
            raise NotFound(f"No {object_name} record with that id.", error_type="INVALID_DATA")
        path = f"vobjects/{vp.vql_name(object_name)}/{record_id}/actions/{action}"
        body = self.api.call("POST", path, safe=False, write=True, **kwargs)
        return vp.job_id(body)

    def status(self, job_id: str) -> RemoteJob:
        """§5.2: never more than one call per poll interval per job; API_LIMIT_EXCEEDED = wait."""
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/jobs/retrieve-job-status/
        if not str(job_id).isdigit():
            raise NotFound("No Vault job with that id.", error_type="INVALID_DATA")
        key = (self.api.base, str(job_id))
        for _ in range(6):
            self._wait_for_poll_slot(key)
            try:
                body = self.api.call("GET", f"services/jobs/{job_id}")
            except RateLimited:
                continue  # polled too soon for Vault (another worker, clock skew): wait a slot
            return vp.remote_job(body, str(job_id))
        raise RateLimited(
            "Vault kept refusing job status calls.", error_type="API_LIMIT_EXCEEDED", retry_after=self.poll_interval
        )

    def _wait_for_poll_slot(self, key: tuple[str, str]) -> None:
        wait = self.polls.reserve(key, self.poll_interval)
        if wait > 0:
            self.sleep(wait)

    def deep_copy_results(self, object_name: str, job_id: str) -> list[DeepCopyRow]:
        """§5.3: parse the success and failure CSVs of a finished deep-copy job."""
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/retrieve-results-of-deep-copy-job/
        if not str(job_id).isdigit():
            raise NotFound("No Vault job with that id.", error_type="INVALID_DATA")
        base = f"vobjects/deepcopy/results/{vp.vql_name(object_name)}"
        found, errors = {}, {}
        for which in ("success", "failure"):
            try:
                found[which] = self._csv(f"{base}/{which}/{job_id}")
            except (NotFound, Rejected) as exc:
                errors[which] = exc
        if not found:
            raise errors["success"]
        # One file missing while the other exists means "no rows of that kind".
        return [*files.success_rows(found.get("success", "")), *files.failure_rows(found.get("failure", ""))]

    def _csv(self, path: str) -> str:
        response, body = self.api.send("GET", path, safe=True, headers={"Accept": "text/csv"})
        if body is not None:  # §5.3: a JSON body means an error, whatever the status
            vp.check(body, write=False)
            raise Unavailable("Vault sent JSON where a CSV file was expected.", error_type="BAD_RESPONSE")
        ctype = response.headers.get("Content-Type", "").lower()
        if response.status_code != 200 or ("csv" not in ctype and "text/plain" not in ctype):
            raise Unavailable(
                f"Vault gave an unexpected answer (HTTP {response.status_code}).", error_type="BAD_RESPONSE"
            )
        return str(response.content.decode("utf-8-sig", "replace"))
