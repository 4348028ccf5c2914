"""Zoho emulator: a record's notes and subform rows found by parent (kept through every write),
so deleting a record does the same work in a small org as in a big one (api-notes zoho.md §7, §8)."""

from __future__ import annotations

from sandbox.zoho_state import ZohoState

BRANCHES = "Branches"


def _org(accounts: int = 0) -> ZohoState:
    """An empty org with `accounts` accounts, each with a note and a branch row."""
    state = ZohoState()
    for i in range(accounts):
        acc = _account(state, f"Other {i}", [{"Branch_Name": f"B{i}", "City": "X"}])
        _note(state, acc["id"], f"other {i}")
    return state


def _account(state: ZohoState, name: str, branches: list[dict]) -> dict:
    return state.add("Accounts", {"Account_Name": name, BRANCHES: branches})


def _note(state: ZohoState, parent: str, title: str) -> dict:
    return state.add("Notes", {"Note_Title": title, "Parent_Id": parent, "$se_module": "Accounts"})


def _scanned(state: ZohoState, module: str, parent: str) -> list[str]:
    """The children a full scan finds: what the index must answer."""
    return [r["id"] for r in state.records[module].values() if r.get("Parent_Id") == parent]


def _branches(state: ZohoState, parent: str) -> list[str]:
    field = state.modules["Accounts"].by_name[BRANCHES]
    listed = [r["id"] for r in state.rows(field, parent)]
    assert listed == _scanned(state, BRANCHES, parent)
    return listed


def _notes(state: ZohoState, parent: str) -> list[str]:
    listed = [r["id"] for r in state.children(parent, "Notes")]
    assert listed == _scanned(state, "Notes", parent)
    return listed


def test_notes_added_moved_and_deleted_are_found_by_parent():
    state = _org(3)
    a, b = _account(state, "A", []), _account(state, "B", [])
    first, second = _note(state, a["id"], "1"), _note(state, a["id"], "2")
    assert _notes(state, a["id"]) == [first["id"], second["id"]]
    state.update("Notes", second, {"Parent_Id": b["id"]})  # a note moved to another record
    assert _notes(state, a["id"]) == [first["id"]] and _notes(state, b["id"]) == [second["id"]]
    state.delete("Notes", first["id"])
    assert _notes(state, a["id"]) == []
    state.delete("Accounts", b["id"])  # its note goes with it; the other org's notes stay
    assert state.get("Notes", second["id"]) is None and _notes(state, b["id"]) == []
    assert len(state.records["Notes"]) == 3


def test_subform_rows_through_insert_merge_replace_clone_and_delete():
    state = _org(2)
    acc = _account(state, "A", [{"Branch_Name": "North", "City": "N"}, {"Branch_Name": "South", "City": "S"}])
    north, south = _branches(state, acc["id"])
    state.update("Accounts", acc, {BRANCHES: [{"id": north, "_delete": None}, {"Branch_Name": "East"}]})
    east = _branches(state, acc["id"])[1]
    assert _branches(state, acc["id"]) == [south, east] and state.get(BRANCHES, north) is None
    state.update("Accounts", acc, {BRANCHES: [{"id": south, "City": "S2"}]})  # edited in place: same order
    assert _branches(state, acc["id"]) == [south, east] and state.get(BRANCHES, south)["City"] == "S2"
    other = _account(state, "B", [])
    state.update("Accounts", acc, {BRANCHES: [{"id": east, "Parent_Id": other["id"]}]})  # a row given away
    assert _branches(state, acc["id"]) == [south] and _branches(state, other["id"]) == [east]
    state.update("Accounts", other, {BRANCHES: [{"id": east, "Parent_Id": acc["id"]}]})
    assert _branches(state, acc["id"]) == [south, east]  # back in the order stored
    clone = state.add("Accounts", {**state.copyable_values("Accounts", acc), "Account_Name": "A (copy)"})
    copies = _branches(state, clone["id"])
    assert len(copies) == 2 and not set(copies) & {south, east}
    state.update("Accounts", acc, {BRANCHES: []})  # [] clears
    assert _branches(state, acc["id"]) == [] and state.get(BRANCHES, south) is None
    state.delete("Accounts", clone["id"])
    assert _branches(state, clone["id"]) == [] and not any(state.get(BRANCHES, i) for i in copies)
    assert len(state.records[BRANCHES]) == 2  # the other accounts' rows


def test_children_of_a_loaded_snapshot_are_found_and_deleted():
    saved = _org(2)
    acc = _account(saved, "A", [{"Branch_Name": "North"}])
    note = _note(saved, acc["id"], "n")
    state = ZohoState()
    state.load_json(saved.to_json())
    assert _notes(state, acc["id"]) == [note["id"]] and len(_branches(state, acc["id"])) == 1
    state.delete("Accounts", acc["id"])
    assert _notes(state, acc["id"]) == [] and _branches(state, acc["id"]) == []
    assert len(state.records["Notes"]) == len(state.records[BRANCHES]) == 2


class _Counting(dict):
    """A module's records that count the records read: each one iterated or looked up."""

    visits = 0

    def _seen(self, items):
        for item in items:
            self.visits += 1
            yield item

    def values(self):  # type: ignore[override]
        return self._seen(super().values())

    def items(self):  # type: ignore[override]
        return self._seen(super().items())

    def __iter__(self):
        return self._seen(super().__iter__())

    def get(self, key, default=None):
        self.visits += 1
        return super().get(key, default)

    def pop(self, key, *default):
        self.visits += 1
        return super().pop(key, *default)


def _delete_visits(others: int) -> int:
    """Records of Notes and Branches read to delete an account with 2 notes and 2 rows."""
    state = _org(others)
    acc = _account(state, "Gone", [{"Branch_Name": "N"}, {"Branch_Name": "S"}])
    _note(state, acc["id"], "1")
    _note(state, acc["id"], "2")
    counted = {m: _Counting(state.records[m]) for m in ("Notes", BRANCHES)}
    state.records.update(counted)
    state.delete("Accounts", acc["id"])
    assert len(state.records["Notes"]) == len(state.records[BRANCHES]) == others
    return sum(c.visits for c in counted.values())


def test_a_delete_reads_the_same_records_in_an_org_20_times_bigger():
    small, big = _delete_visits(10), _delete_visits(200)
    assert small == big <= 8  # its 4 children, each found and removed
