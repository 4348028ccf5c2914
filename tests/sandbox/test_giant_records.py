"""The giant records the 100,000-record benchmark copies: made only when asked, of the size asked,
after every other demo record (their ids stay as they were)."""

from __future__ import annotations

from sandbox import demo, zoho_demo
from sandbox.vault import VaultSettings
from sandbox.vault_state import VaultState
from sandbox.zoho_state import ZohoState


def _zoho(giant: int) -> ZohoState:
    state = ZohoState()
    zoho_demo.load(state, giant=giant)
    return state


def _id(value: object) -> object:
    return value.get("id") if isinstance(value, dict) else value


def _related_to(state: ZohoState, account_id: str) -> int:
    """Records under the account: its children and their children (Notes and Tasks under them)."""
    level1 = {
        r["id"]
        for m in ("Contacts", "Deals")
        for r in state.records[m].values()
        if _id(r.get("Account_Name")) == account_id
    }
    parents = level1 | {account_id}
    below = sum(
        1 for r in state.records["Tasks"].values() if any(_id(r.get(f)) in parents for f in ("What_Id", "Who_Id"))
    )
    below += sum(1 for r in state.records["Notes"].values() if _id(r.get("Parent_Id")) in parents)
    return len(level1) + below


def _account(state: ZohoState, name: str) -> dict | None:
    return next((r for r in state.records["Accounts"].values() if r["Account_Name"] == name), None)


def test_the_giant_account_is_made_only_when_asked_and_with_the_records_asked():
    assert _account(_zoho(0), zoho_demo.GIANT_ACCOUNT) is None
    state = _zoho(2_000)
    giant = _account(state, zoho_demo.GIANT_ACCOUNT)
    assert giant is not None
    assert _related_to(state, giant["id"]) == 2_000


def test_the_giant_account_leaves_the_other_demo_ids_as_they_were():
    plain, with_giant = _zoho(0), _zoho(1_000)
    for module, records in plain.records.items():
        assert list(records)[: len(records)] == list(with_giant.records[module])[: len(records)], module


def test_the_giant_product_is_made_only_when_asked_and_with_the_records_asked():
    def product(state: VaultState) -> dict | None:
        return next((r for r in state.records["product__v"].values() if r["name__v"] == demo.GIANT_PRODUCT), None)

    assert product(VaultState(VaultSettings())) is None
    state = VaultState(VaultSettings(giant_related=1_000))
    giant = product(state)
    assert giant is not None
    formulations = {r["id"] for r in state.records["formulation__c"].values() if r["product__c"] == giant["id"]}
    packagings = [r for r in state.records["packaging__c"].values() if r["formulation__c"] in formulations]
    assert len(formulations) + len(packagings) == 1_000


def test_a_related_list_follows_every_write_after_its_index_was_built():
    state = ZohoState()
    acme, globex = (state.add("Accounts", {"Account_Name": n})["id"] for n in ("Acme", "Globex"))
    contacts = next(r for r in state.modules["Accounts"].related if r.module == "Contacts")
    moved = state.add("Contacts", {"Last_Name": "Moves", "Account_Name": acme})
    assert [r["id"] for r in state.related("Accounts", acme, contacts)] == [moved["id"]]  # the index is built
    state.update("Contacts", moved, {"Account_Name": globex})
    added = state.add("Contacts", {"Last_Name": "New", "Account_Name": acme})
    assert [r["id"] for r in state.related("Accounts", acme, contacts)] == [added["id"]]
    assert [r["id"] for r in state.related("Accounts", globex, contacts)] == [moved["id"]]
    state.delete("Contacts", added["id"])
    assert state.related("Accounts", acme, contacts) == []


def test_a_giant_modules_coql_lookup_in_ids_answers_from_an_index_as_a_scan_would():
    from sandbox import Sandbox
    from sandbox.zoho_api import COQL_INDEX_FROM
    from tests.fixtures.sandbox import ZohoApi

    sb = Sandbox.start(zoho_settings={"giant_related": 30_000})
    try:
        api = ZohoApi(sb)
        assert len(sb.zoho.state.records["Tasks"]) >= COQL_INDEX_FROM  # the index answers
        giant = api.account_id(zoho_demo.GIANT_ACCOUNT)
        contacts = api.coql(f"select id from Contacts where Account_Name = '{giant}' limit 2000").json()["data"]
        ids = ", ".join(f"'{c['id']}'" for c in contacts[:100])
        indexed = api.coql(f"select Subject, Who_Id from Tasks where Who_Id in ({ids}) limit 2000").json()
        # The same condition not alone in the WHERE: every task scanned.
        scanned = api.coql(
            f"select Subject, Who_Id from Tasks where (Who_Id in ({ids})) and Subject is not null limit 2000"
        ).json()
        assert indexed == scanned and len(indexed["data"]) == 600  # 6 tasks for each of 100 contacts
    finally:
        sb.stop()
