"""Connector.holders over HTTP against the sandbox: which of many values a unique field already
has, in one query per batch of values (a bulk clone's new names are checked before Confirm)."""

import pytest


def _posts(sb, system, path_end):
    return [e for e in sb.log(system) if e.method == "POST" and e.path.endswith(path_end)]


def test_vault_holders_in_one_query(vault):
    sb, _, conn = vault
    conn.describe("product__v")
    sb.clear_log("vault")
    held = conn.holders("product__v", "name__v", ["Neurolax", "Nobody Has This", "Cardiostat", "O'Brien"])
    assert held == {"Neurolax": "Neurolax", "Cardiostat": "Cardiostat"}
    assert len(_posts(sb, "vault", "/query")) == 1


def test_zoho_holders_in_one_coql_query(zoho):
    sb, _, conn = zoho
    accounts = conn.search("Accounts", "", per_page=2).records
    conn.describe("Accounts")
    sb.clear_log("zoho")
    held = conn.holders("Accounts", "Account_Name", [accounts[0].name, "Nobody Has This", accounts[1].name])
    assert held == {accounts[0].name: accounts[0].name, accounts[1].name: accounts[1].name}
    assert len(_posts(sb, "zoho", "/coql")) == 1


@pytest.mark.parametrize("system", ["vault", "zoho"])
def test_holders_refuses_a_field_the_object_lacks(vault, zoho, system):
    from records.connectors.errors import Rejected

    _, _, conn = vault if system == "vault" else zoho
    with pytest.raises(Rejected):
        conn.holders("product__v" if system == "vault" else "Accounts", "no_such_field", ["x"])


def test_vault_holders_past_a_thousand_values_take_two_queries(vault):
    sb, _, conn = vault
    conn.describe("product__v")
    sb.clear_log("vault")
    values = ["Neurolax", *(f"Nobody {i}" for i in range(1_200)), "Cardiostat"]
    held = conn.holders("product__v", "name__v", values)
    assert held == {"Neurolax": "Neurolax", "Cardiostat": "Cardiostat"}
    assert len(_posts(sb, "vault", "/query")) == 2


def test_zoho_holders_past_a_hundred_values_take_two_coql_queries(zoho):
    sb, _, conn = zoho
    accounts = conn.search("Accounts", "", per_page=2).records
    conn.describe("Accounts")
    sb.clear_log("zoho")
    values = [accounts[0].name, *(f"Nobody {i}" for i in range(150)), accounts[1].name]
    held = conn.holders("Accounts", "Account_Name", values)
    assert held == {accounts[0].name: accounts[0].name, accounts[1].name: accounts[1].name}
    assert len(_posts(sb, "zoho", "/coql")) == 2


def test_vault_holders_of_another_field_are_named_by_their_record(vault):
    sb, _, conn = vault
    product = conn.get("product__v", conn.search("product__v", "Neurolax").records[0].id)
    code = product.fields.get("external_id__v")
    assert code, "the demo product has an external id"
    held = conn.holders("product__v", "external_id__v", [code, "NOBODY-HAS-THIS"])
    assert held == {code: "Neurolax"}


QUERY = r"^/api/v[\d.]+/query$"


def _queries_while_one_is_held(sb, call) -> tuple[list, object]:
    """Hold the answer of the first VQL query `call()` makes; the queries the sandbox logged by
    the time it was released (the held one is logged once answered), and what `call` returned."""
    import threading
    import time

    hold = sb.hooks("vault").hold("POST", QUERY)
    result: list = []
    caller = threading.Thread(target=lambda: result.append(call()))
    caller.start()
    try:
        assert hold.wait(10)
        deadline = time.monotonic() + 10
        while len(_posts(sb, "vault", "/query")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        others = _posts(sb, "vault", "/query")
    finally:
        hold.release()
        caller.join(30)
    return others, result[0]


def test_vault_holders_of_many_values_are_queried_at_once(vault):
    sb, _, conn = vault
    conn.describe("product__v")
    sb.clear_log("vault")
    values = ["Neurolax", *(f"Nobody {i}" for i in range(2_400)), "Cardiostat"]
    others, held = _queries_while_one_is_held(sb, lambda: conn.holders("product__v", "name__v", values))
    # Three chunks of 1,000: the other two answered while the first one's answer was held.
    assert len(others) == 2, [e.body_summary[:60] for e in others]
    assert held == {"Neurolax": "Neurolax", "Cardiostat": "Cardiostat"}
    assert len(_posts(sb, "vault", "/query")) == 3


def test_vault_names_of_many_ids_are_queried_at_once(vault):
    sb, _, conn = vault
    known = {r.id: r.name for r in conn.search("product__v", "", per_page=3).records}
    ids = [*known, *(f"00P9{i:011d}" for i in range(2_000))]  # well-formed ids no record has
    sb.clear_log("vault")
    others, names = _queries_while_one_is_held(sb, lambda: conn.names("product__v", ids))
    assert len(others) >= 2, [e.body_summary[:60] for e in others]
    assert names == known
