"""`python -m sandbox [--vault-port 8101 --zoho-port 8102] [--state var/sandbox.json]`."""

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from sandbox import demo
from sandbox.server import Sandbox


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--vault-port", type=int, default=8101)
    parser.add_argument("--zoho-port", type=int, default=8102)
    parser.add_argument("--state", type=Path, help="JSON file to load the Vault records from and save them to")
    args = parser.parse_args(argv)

    sb = Sandbox.start(host=args.host, vault_port=args.vault_port, zoho_port=args.zoho_port)
    if args.state and args.state.exists():
        sb.vault.state.load_json(json.loads(args.state.read_text()))
    print(f"Vault sandbox: {sb.vault_url}  (API {demo.VAULT_API_VERSION})")
    print(f"  username: {demo.VAULT_USERNAME}  password: {demo.VAULT_PASSWORD}")
    print(f"Zoho sandbox:  {sb.zoho_url}  (API domain and accounts server)"
          + ("" if sb.zoho is not None else "  [emulator not available: 503]"))
    print(f"  client id: {demo.ZOHO_CLIENT_ID}  client secret: {demo.ZOHO_CLIENT_SECRET}")
    print(f"  refresh token: {demo.ZOHO_REFRESH_TOKEN}")
    print("Control: /_sandbox/faults, /_sandbox/log, /_sandbox/reset on each server. Ctrl-C to stop.")
    sys.stdout.flush()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    if args.state:
        args.state.parent.mkdir(parents=True, exist_ok=True)
        with sb.vault.state.lock:
            args.state.write_text(json.dumps(sb.vault.state.to_json()))
    sb.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
