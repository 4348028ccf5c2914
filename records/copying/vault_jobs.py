"""Waiting for a Vault job (a deep copy, a cascade delete) to end: one poller for the deep copy and
the undo."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings

from records.copying.lifecycle import Cancelled
from records.copying.run_context import RunContext


class VaultJobPoller:
    def __init__(self, context: RunContext) -> None:
        self.context = context

    def wait(self, remote_id: str, st: dict[str, Any] | None = None) -> str:
        """Wait for Vault's job to end and return its status. Each status call is counted in
        `st["polls"]` (the job page's "polled k times"), kept with the phase so a resumed run counts on."""
        while True:
            remote = self.context.connector.job_status(remote_id)
            if st is not None:
                st["polls"] = int(st.get("polls") or 0) + 1
                self.context.save_state()
            if remote.finished:
                return remote.status
            self.pause()

    def pause(self) -> None:
        """Between two looks at something Vault is still doing: the lease renewed, then one poll
        interval. A started Vault job can't be stopped: a cancel takes effect once it has finished."""
        try:
            self.context.heartbeat()
        except Cancelled:
            pass
        time.sleep(settings.VAULT_JOB_POLL_SECONDS)
