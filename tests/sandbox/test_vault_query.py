"""Vault emulator: record retrieval and the VQL subset (api-notes vault.md §3)."""


def test_3_2_get_record_returns_all_fields_with_picklists_as_arrays(vault_api):
    pid = vault_api.product_id("Cardiostat")
    body = vault_api.get(f"vobjects/product__v/{pid}")
    assert body["responseDetails"]["url"] == f"/api/v26.3/vobjects/product__v/{pid}"
    data = body["data"]
    assert data["id"] == pid and len(pid) == 15 and pid.startswith("00P")
    assert data["status__v"] == ["active__v"]
    assert data["copy_key__c"] is None
    assert data["country__c"].startswith("00C")


def test_3_2_unknown_record_is_invalid_data(vault_api):
    assert vault_api.get("vobjects/product__v/00P999999999999")["errors"][0]["type"] == "INVALID_DATA"


def test_3_3_select_where_equals(vault_api):
    body = vault_api.query("SELECT id, name__v, price__c FROM product__v WHERE name__v = 'Neurolax'")
    assert body["responseDetails"]["total"] == 1
    assert body["data"][0]["name__v"] == "Neurolax"
    assert set(body["data"][0]) == {"id", "name__v", "price__c"}


def test_3_3_in_and_like(vault_api):
    body = vault_api.query(
        "SELECT name__v FROM product__v WHERE name__v IN ('Cardiostat', 'Neurolax', 'Large Product') AND name__v LIKE '%ro%'"
    )
    assert sorted(r["name__v"] for r in body["data"]) == ["Large Product", "Neurolax"]


def test_3_3_or_with_parentheses_and_picklist(vault_api):
    body = vault_api.query(
        "SELECT name__v FROM product__v WHERE (name__v = 'Cardiostat' OR name__v = 'Neurolax') AND status__v = 'active__v'"
    )
    assert sorted(r["name__v"] for r in body["data"]) == ["Cardiostat", "Neurolax"]


def test_3_3_order_by_desc(vault_api):
    names = [r["name__v"] for r in vault_api.query("SELECT name__v FROM product__v ORDER BY name__v DESC")["data"]]
    assert names == sorted(names, reverse=True)


def test_3_3_pagesize_and_next_page_by_get_and_post(vault_api):
    first = vault_api.query("SELECT id FROM formulation__c PAGESIZE 50")
    details = first["responseDetails"]
    assert details["pagesize"] == 50 and details["size"] == 50 and details["total"] > 100
    assert "/query/" in details["next_page"] and "pagesize=50&pageoffset=50" in details["next_page"]
    by_get = vault_api.get(details["next_page"])
    by_post = vault_api.post(details["next_page"])
    assert by_get["data"] == by_post["data"]
    assert by_get["responseDetails"]["pageoffset"] == 50
    assert "previous_page" in by_get["responseDetails"]
    assert {r["id"] for r in by_get["data"]}.isdisjoint(r["id"] for r in first["data"])


def test_3_3_pageoffset_clause(vault_api):
    all_ids = vault_api.ids("SELECT id FROM product__v")
    assert vault_api.ids("SELECT id FROM product__v PAGESIZE 2 PAGEOFFSET 3") == all_ids[3:5]


def test_3_3_child_subquery_on_inbound_relationship(vault_api):
    body = vault_api.query(
        "SELECT id, name__v, (SELECT id, strength__c FROM formulations__cr ORDER BY strength__c) "
        "FROM product__v WHERE name__v = 'Dermacalm'"
    )
    nested = body["data"][0]["formulations__cr"]
    assert nested["responseDetails"]["total"] == 4 and nested["responseDetails"]["pagesize"] == 250
    assert set(nested["data"][0]) == {"id", "strength__c"}


def test_3_3_parent_lookup(vault_api):
    body = vault_api.query("SELECT id, product__cr.name__v FROM formulation__c WHERE product__cr.name__v = 'Neurolax'")
    assert body["responseDetails"]["total"] == 5
    assert body["data"][0]["product__cr.name__v"] == "Neurolax"


def test_3_3_syntax_error(vault_api):
    for q in (
        "SELECT FROM product__v",
        "SELECT id product__v",
        "SELECT id FROM product__v WHERE name__v = 'x",
        "SELECT id FROM product__v WHERE",
        "DROP TABLE product__v",
    ):
        assert vault_api.query(q)["errors"][0]["type"] == "INCORRECT_QUERY_SYNTAX_ERROR", q


def test_3_3_unknown_field_or_object_is_rejected(vault_api):
    assert vault_api.query("SELECT nope__c FROM product__v")["errors"][0]["type"] == "INCORRECT_QUERY_SYNTAX_ERROR"
    assert vault_api.query("SELECT id FROM nope__c")["errors"][0]["type"] == "INCORRECT_QUERY_SYNTAX_ERROR"


def test_3_3_escaped_quote_keeps_injection_attempt_literal(vault_api):
    body = vault_api.query(r"SELECT id FROM product__v WHERE name__v = 'x\' OR name__v LIKE \'%'")
    assert body["responseStatus"] == "SUCCESS"
    assert body["data"] == []
    created = vault_api.post("vobjects/product__v", json=[{"name__v": "O'Brien", "status__v": "active__v"}])
    assert created["data"][0]["responseStatus"] == "SUCCESS"
    assert len(vault_api.ids(r"SELECT id FROM product__v WHERE name__v = 'O\'Brien'")) == 1


def test_3_3_in_matches_a_picklist_value_and_unescapes_a_backslash(vault_api):
    active = vault_api.ids("SELECT id FROM product__v WHERE status__v = 'active__v'")
    assert active and sorted(
        vault_api.ids("SELECT id FROM product__v WHERE status__v IN ('active__v', 'none__c')")
    ) == (sorted(active))
    created = vault_api.post("vobjects/product__v", json=[{"name__v": "Back\\slash", "status__v": "active__v"}])
    assert created["data"][0]["responseStatus"] == "SUCCESS"
    assert len(vault_api.ids(r"SELECT id FROM product__v WHERE name__v IN ('Back\\slash', 'other')")) == 1


def test_3_3_id_in_answers_the_records_in_their_stored_order(vault_api):
    stored = vault_api.ids("SELECT id FROM product__v")
    asked = [*reversed(stored[1:4]), "00P999999999999"]
    listed = ", ".join(f"'{i}'" for i in asked)
    assert vault_api.ids(f"SELECT id FROM product__v WHERE id IN ({listed})") == stored[1:4]
    ordered = vault_api.query(f"SELECT id, name__v FROM product__v WHERE id IN ({listed}) ORDER BY name__v DESC")
    names = [r["name__v"] for r in ordered["data"]]
    assert len(names) == 3 and names == sorted(names, reverse=True)
    both = vault_api.ids(f"SELECT id FROM product__v WHERE id IN ({listed}) AND name__v = 'nobody'")
    assert both == []


def test_3_3_an_unexpected_character_is_named_with_its_position(vault_api):
    error = vault_api.query("SELECT id FROM product__v WHERE name__v =   #")["errors"][0]
    assert error["type"] == "INCORRECT_QUERY_SYNTAX_ERROR"
    assert error["message"] == "Unexpected character [#] at position 44"
    trailing = vault_api.query("SELECT id FROM product__v WHERE name__v = 'Neurolax'   ")
    assert trailing["responseDetails"]["total"] == 1


def _paged(vault_api, statement, size):
    """Every page of `statement` asked for by PAGEOFFSET, as the connector reads a related list."""
    first = vault_api.query(f"{statement} PAGESIZE {size}")
    ids, total = [r["id"] for r in first["data"]], first["responseDetails"]["total"]
    for offset in range(size, total, size):
        ids += [r["id"] for r in vault_api.query(f"{statement} PAGESIZE {size} PAGEOFFSET {offset}")["data"]]
    return ids


def test_3_3_pages_by_pageoffset_see_a_record_deleted_between_them(vault_api):
    formulations = ", ".join(f"'{i}'" for i in vault_api.ids("SELECT id FROM formulation__c")[40:60])
    statement = f"SELECT id FROM packaging__c WHERE formulation__c IN ({formulations}) ORDER BY id ASC"
    stored = vault_api.ids(statement)
    assert len(stored) > 100 and _paged(vault_api, statement, 40) == stored
    assert vault_api.ids(f"{statement} PAGESIZE 40 PAGEOFFSET 40") == stored[40:80]
    deleted = vault_api.request("DELETE", "vobjects/packaging__c", json=[{"id": stored[50]}]).json()
    assert deleted["data"][0]["responseStatus"] == "SUCCESS", deleted
    page = vault_api.query(f"{statement} PAGESIZE 40 PAGEOFFSET 40")  # the same statement, after a write
    assert [r["id"] for r in page["data"]] == [*stored[40:50], *stored[51:81]]
    assert page["responseDetails"]["total"] == len(stored) - 1


class _Counting(dict):
    """An object's records that count the ones looked up by id."""

    looked_up = 0

    def __getitem__(self, key):
        self.looked_up += 1
        return super().__getitem__(key)


def test_3_3_later_pages_by_pageoffset_do_not_select_the_records_again(vault_api):
    state = vault_api.sb.vault.state
    products = ", ".join(f"'{i}'" for i in state.records["product__v"])
    statement = f"SELECT id FROM formulation__c WHERE product__c IN ({products}) ORDER BY id ASC"
    counted = state.records["formulation__c"] = _Counting(state.records["formulation__c"])
    ids = _paged(vault_api, statement, 20)
    # Each matching record looked up once (by the first page), not once a page.
    assert len(ids) > 100 and counted.looked_up == len(ids)
