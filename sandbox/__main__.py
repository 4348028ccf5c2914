"""`python -m sandbox [--vault-port 8101 --zoho-port 8102] [--state var/sandbox.json] [--no-copy-keys]
[--target-vault-port 8103 --target-zoho-port 8104 [--target-state var/sandbox-target.json]]`.

With the target ports, a second vault and Zoho org (sandbox/target_org.py) run too: where copies
between profiles go."""

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from sandbox import demo
from sandbox.server import Sandbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--vault-port", type=int, default=8101)
    parser.add_argument("--zoho-port", type=int, default=8102)
    parser.add_argument(
        "--state", type=Path, help="JSON file to load the Vault and Zoho records from and save them to on exit"
    )
    parser.add_argument(
        "--no-copy-keys",
        action="store_true",
        help="serve the demo data without copy-key fields (copy_key__c, Copy_Key), as real vaults and orgs are",
    )
    parser.add_argument("--target-vault-port", type=int, default=0, help="also serve the target vault here")
    parser.add_argument("--target-zoho-port", type=int, default=0, help="also serve the target Zoho org here")
    parser.add_argument("--target-state", type=Path, help="as --state, for the target vault and org")
    args = parser.parse_args(argv)

    # Before anything is printed: whoever reads the first line may stop the sandbox at once.
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    files = _files_dirs(args.state)
    sb = Sandbox.start(
        host=args.host,
        vault_port=args.vault_port,
        zoho_port=args.zoho_port,
        copy_keys=not args.no_copy_keys,
        vault_settings=files[0],
        zoho_settings=files[1],
    )
    if args.state and args.state.exists():
        load_state(sb, json.loads(args.state.read_text()))
    target = _start_target(args)
    print(f"Vault sandbox: {sb.vault_url}  (API {demo.VAULT_API_VERSION})")
    print(f"  username: {demo.VAULT_USERNAME}  password: {demo.VAULT_PASSWORD}")
    print(
        f"Zoho sandbox:  {sb.zoho_url}  (API domain and accounts server)"
        + ("" if sb.zoho is not None else "  [emulator not available: 503]")
    )
    print(f"  client id: {demo.ZOHO_CLIENT_ID}  client secret: {demo.ZOHO_CLIENT_SECRET}")
    print(f"  refresh token: {demo.ZOHO_REFRESH_TOKEN}")
    if args.no_copy_keys:
        print("Served without copy-key fields (--no-copy-keys).")
    print("Control: /_sandbox/faults, /_sandbox/log, /_sandbox/reset on each server. Ctrl-C to stop.")
    sys.stdout.flush()

    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    for running, path in ((sb, args.state), (target, args.target_state)):
        if running is not None and path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(save_state(running))
        if running is not None:
            running.stop()
    return 0


def _start_target(args: argparse.Namespace) -> Sandbox | None:
    if not (args.target_vault_port and args.target_zoho_port):
        return None
    target = Sandbox.start(
        host=args.host,
        vault_port=args.target_vault_port,
        zoho_port=args.target_zoho_port,
        copy_keys=not args.no_copy_keys,
        org="target",
        vault_settings=_files_dirs(args.target_state)[0],
        zoho_settings=_files_dirs(args.target_state)[1],
    )
    if args.target_state and args.target_state.exists():
        load_state(target, json.loads(args.target_state.read_text()))
    print(f"Target Vault sandbox: {target.vault_url}   Target Zoho sandbox: {target.zoho_url}  (same logins)")
    return target


def _files_dirs(state: Path | None) -> tuple[dict[str, str], dict[str, str]]:
    """With --state, attachments' bytes live beside the JSON file (`<state>.files/vault|zoho`),
    their metadata in it; without, in a temporary directory."""
    if state is None:
        return {}, {}
    root = state.with_name(state.name + ".files")
    return {"files_dir": str(root / "vault")}, {"files_dir": str(root / "zoho")}


def save_state(sb: Sandbox) -> str:
    """Both emulators' records as JSON, {"vault": ..., "zoho": ...}, each serialized under its lock."""
    with sb.vault.state.lock:
        vault = json.dumps(sb.vault.state.to_json())
    files = {"vault": sb.vault.files.to_json()}
    zoho = "null"
    if sb.zoho is not None:
        with sb.zoho.state.lock:
            zoho = json.dumps(sb.zoho.state.to_json())
        files["zoho"] = sb.zoho.files.to_json()
    return f'{{"vault": {vault}, "zoho": {zoho}, "files": {json.dumps(files)}}}'


def load_state(sb: Sandbox, data: dict[str, Any]) -> None:
    if "vault" not in data and "records" in data:
        data = {"vault": data}  # a file saved when only Vault's records were kept
    if "vault" in data:
        sb.vault.state.load_json(data["vault"])
    if data.get("zoho") and sb.zoho is not None:
        sb.zoho.state.load_json(data["zoho"])
    files = data.get("files") or {}
    if "vault" in files:
        sb.vault.files.load_json(files["vault"])
    if "zoho" in files and sb.zoho is not None:
        sb.zoho.files.load_json(files["zoho"])


if __name__ == "__main__":
    sys.exit(main())
