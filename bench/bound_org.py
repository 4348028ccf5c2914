"""`python -m bench.bound_org [--target] [--poll-seconds S]`: a sandbox (a vault and a Zoho org) in a
process of its own, set up as the latency_bounds scenarios need it, served until SIGTERM.

A real Vault or Zoho is another machine: in the bench's own process the emulator's CPU (building
thousands of answers, their JSON) would share the interpreter lock with the copy being timed. The
set-up the in-process scenarios make by hand after a reset is made here, before the first line is
printed (`OrgProcess` reads the URLs from it):
- both: the latency the bench sets is each call's whole round trip, the emulator's work inside it
  (`latency_covers_work`, sandbox/server.py): a real remote serves five concurrent calls in
  parallel within its latency, where this one interpreter serves them one after another, which
  stretched a round trip of five 1,000-id queries or 500-record copies from 0.2 s to 0.22–0.3 s;
- Vault: its jobs polled at the bench's interval, the burst limit a header only (no sleep);
- Zoho: Contacts' Email not unique (a copy in the same org would be refused as DUPLICATE_DATA:
  the bench measures the copy, not that refusal; as `zoho_deep.fresh_zoho`);
- `--target` (the second org, `Sandbox.start(org="target")`): the Deals' Stage values the main
  org has (the target lacks "Negotiation"; as `zoho_cross.fresh_orgs`).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from sandbox import Sandbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bound_org", description=__doc__)
    parser.add_argument("--target", action="store_true", help="serve the target org's demo data")
    parser.add_argument("--poll-seconds", type=float, default=0.2, help="the Vault jobs' poll interval")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    sb = Sandbox.start(
        vault_settings={"job_poll_interval": args.poll_seconds, "burst_sleep": False},
        org="target" if args.target else "main",
    )
    _prepare_zoho(sb, target=args.target)
    for system in ("vault", "zoho"):
        sb.faults(system).set(latency_covers_work=True)
    print(f"Vault sandbox: {sb.vault_url}")
    print(f"Zoho sandbox:  {sb.zoho_url}")
    sys.stdout.flush()
    stop.wait()
    sb.stop()
    return 0


def _prepare_zoho(sb, *, target: bool) -> None:
    from sandbox.zoho_schema import build_modules

    modules = sb.zoho.state.modules
    modules["Contacts"].by_name["Email"]["unique"] = {}
    if target:
        main_stage = build_modules()["Deals"].by_name["Stage"]
        modules["Deals"].by_name["Stage"]["pick_list_values"] = [dict(v) for v in main_stage["pick_list_values"]]


if __name__ == "__main__":
    sys.exit(main())
