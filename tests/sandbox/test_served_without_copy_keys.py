"""Both emulators served without copy-key fields (Sandbox.start(copy_keys=False), `python -m sandbox
--no-copy-keys`): no object or module has copy_key__c / Copy_Key, in metadata or records, and a
reset keeps it so; the default sandbox still has them."""

import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests

from tests.fixtures.sandbox import VaultApi, ZohoApi

VAULT_OBJECTS = ("product__v", "formulation__c", "packaging__c")
ZOHO_MODULES = ("Accounts", "Contacts", "Deals", "Products")


def vault_field_names(api, obj):
    return {f["name"] for f in api.get(f"metadata/vobjects/{obj}")["object"]["fields"]}


def zoho_field_names(api, module):
    return {f["api_name"] for f in api.get("settings/fields", module=module).json()["fields"]}


def test_the_bare_vault_has_no_copy_key_field_or_value(fresh_bare_sandbox):
    api = VaultApi(fresh_bare_sandbox)
    for obj in VAULT_OBJECTS:
        assert "copy_key__c" not in vault_field_names(api, obj)
        [row] = api.query(f"SELECT id FROM {obj} PAGESIZE 1")["data"]
        assert "copy_key__c" not in api.get(f"vobjects/{obj}/{row['id']}")["data"]
    refused = api.query("SELECT id FROM product__v WHERE copy_key__c = 'x'")
    assert refused["responseStatus"] == "FAILURE"


def test_the_bare_zoho_org_has_no_copy_key_field_or_value(fresh_bare_sandbox):
    api = ZohoApi(fresh_bare_sandbox)
    for module in ZOHO_MODULES:
        assert "Copy_Key" not in zoho_field_names(api, module)
    record = api.record("Accounts", api.account_id("Initech"))
    assert "Copy_Key" not in record
    refused = api.coql("select Account_Name from Accounts where Copy_Key = 'x'")
    assert refused.status_code == 400


def test_a_reset_keeps_the_copy_keys_out(bare_sandbox):
    bare_sandbox.reset()
    bare_sandbox.reset()
    assert bare_sandbox.copy_keys is False
    assert "copy_key__c" not in vault_field_names(VaultApi(bare_sandbox), "product__v")
    assert "Copy_Key" not in zoho_field_names(ZohoApi(bare_sandbox), "Accounts")


def test_the_default_sandbox_keeps_its_copy_keys(fresh_sandbox):
    assert fresh_sandbox.copy_keys is True
    assert "copy_key__c" in vault_field_names(VaultApi(fresh_sandbox), "product__v")
    assert "Copy_Key" in zoho_field_names(ZohoApi(fresh_sandbox), "Accounts")


def test_the_bare_sandbox_is_another_server_than_the_default_one(fresh_sandbox, fresh_bare_sandbox):
    assert {fresh_sandbox.vault_url, fresh_sandbox.zoho_url}.isdisjoint(
        {fresh_bare_sandbox.vault_url, fresh_bare_sandbox.zoho_url}
    )
    assert requests.get(f"{fresh_bare_sandbox.vault_url}/api/", timeout=5).json()["responseStatus"] == "SUCCESS"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_command_line_flag_serves_without_copy_keys():
    vault_port, zoho_port = free_port(), free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--no-copy-keys",
            "--vault-port",
            str(vault_port),
            "--zoho-port",
            str(zoho_port),
        ],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(7)]
        assert any("without copy-key fields" in line for line in lines), lines
        served = type(
            "Served", (), {"vault_url": f"http://127.0.0.1:{vault_port}", "zoho_url": f"http://127.0.0.1:{zoho_port}"}
        )
        assert "copy_key__c" not in vault_field_names(VaultApi(served), "product__v")
        assert "Copy_Key" not in zoho_field_names(ZohoApi(served), "Accounts")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
