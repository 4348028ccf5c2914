"""A sandbox org in a process of its own (`python -m sandbox`), driven through its control endpoints.

The scale-out rows run several orgs at once: in one process their servers would share one
interpreter lock, so the orgs' answers would wait on each other (a wave of inserts from four jobs
parsed and stored one after another) and the benchmark would measure the sandbox, not the
workers. One process per org, as each real org is its own remote.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import requests

from bench.common import ROOT

_VAULT_URL = re.compile(r"Vault sandbox:\s+(http://\S+)")
_ZOHO_URL = re.compile(r"Zoho sandbox:\s+(http://\S+)")
SANDBOX = ("-m", "sandbox", "--vault-port", "0", "--zoho-port", "0")


class OrgProcess:
    """One sandbox (a vault and a Zoho org) in a child process; `vault_url` and `zoho_url` as
    Sandbox's. `command`: the module and arguments to run (default `python -m sandbox` on free
    ports; bench/bound_org.py serves one set up for the latency_bounds scenarios)."""

    def __init__(self, command: tuple[str, ...] = SANDBOX) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, *command],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.vault_url = ""
        self.zoho_url = self._read_urls()

    def _read_urls(self) -> str:
        """The Zoho org's URL (the vault's, printed first, kept in `vault_url`)."""
        for line in self.proc.stdout:
            vault = _VAULT_URL.search(line)
            if vault:
                self.vault_url = vault.group(1)
            found = _ZOHO_URL.search(line)
            if found:
                return found.group(1)
        self.stop()
        raise RuntimeError("the sandbox process ended before it served the Zoho org")

    def _control(self, method: str, action: str, *, system: str = "zoho", **kwargs):
        url = self.vault_url if system == "vault" else self.zoho_url
        answer = requests.request(method, f"{url}/_sandbox/{action}", timeout=30, **kwargs)
        answer.raise_for_status()
        return answer.json()

    def reset(self) -> None:
        """Fresh demo data, faults off, log cleared."""
        self._control("POST", "reset")

    def set_latency(self, seconds: float, system: str = "zoho") -> None:
        self._control("POST", "faults", system=system, json={"latency": seconds})

    def clear_log(self, system: str = "zoho") -> None:
        self._control("DELETE", "log", system=system)

    def log(self, system: str = "zoho") -> list[dict]:
        return self._control("GET", "log", system=system)

    def in_flight(self) -> dict[str, int]:
        return self._control("GET", "in_flight")

    def reset_peak(self) -> None:
        self._control("DELETE", "in_flight")

    def cpu_seconds(self) -> float:
        """CPU the process has used so far (Linux /proc; 0 elsewhere)."""
        try:
            fields = open(f"/proc/{self.proc.pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115, PTH123
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
