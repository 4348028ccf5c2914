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

_ZOHO_URL = re.compile(r"Zoho sandbox:\s+(http://\S+)")


class OrgProcess:
    """One sandbox (a vault and a Zoho org) in a child process; `zoho_url` as Sandbox's."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--vault-port", "0", "--zoho-port", "0"],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.zoho_url = self._read_url()

    def _read_url(self) -> str:
        for line in self.proc.stdout:
            found = _ZOHO_URL.search(line)
            if found:
                return found.group(1)
        self.stop()
        raise RuntimeError("the sandbox process ended before it served the Zoho org")

    def _control(self, method: str, action: str, **kwargs):
        answer = requests.request(method, f"{self.zoho_url}/_sandbox/{action}", timeout=30, **kwargs)
        answer.raise_for_status()
        return answer.json()

    def reset(self) -> None:
        """Fresh demo data, faults off, log cleared."""
        self._control("POST", "reset")

    def set_latency(self, seconds: float) -> None:
        self._control("POST", "faults", json={"latency": seconds})

    def clear_log(self) -> None:
        self._control("DELETE", "log")

    def log(self) -> list[dict]:
        return self._control("GET", "log")

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
