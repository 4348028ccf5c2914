"""A preview's independent first reads started together, over real HTTP."""

import threading
import time

import pytest

from tests.fixtures.sandbox import find_record

DESCRIBE = r"^/api/v[\d.]+/metadata/vobjects/product__v$"


def _gets(sb, count: int) -> list[str]:
    return [e.path for e in sb.log("vault")[count:] if e.method == "GET"]


@pytest.mark.django_db(transaction=True)  # threads need rows they can see (no test transaction)
@pytest.mark.parametrize("mode", ["deep_copy", "clone"])
def test_the_first_record_and_the_object_labels_are_read_while_the_describe_is(vault, mode):
    from records.copying.preview import copy_preview
    from tests.fixtures.engine import copy_request

    sb, profile, conn = vault
    first = find_record(conn, "product__v", "Cardiostat")
    fresh = type(conn)(conn.config, conn.tokens)  # nothing described yet
    before = len(sb.log("vault"))
    hold = sb.hooks("vault").hold("GET", DESCRIBE)
    request = copy_request(profile, "product__v", [first], mode, overrides={"name__v": "Cardiostat Overlap"})
    plans: list = []
    planner = threading.Thread(target=lambda: plans.append(copy_preview(request=request, connector=fresh)))
    planner.start()
    try:
        assert hold.wait(10)
        deadline = time.monotonic() + 10
        while len(_gets(sb, before)) < (2 if mode == "deep_copy" else 1) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # an object list asked meanwhile would be answered by now
        while_held = _gets(sb, before)  # the held describe is logged once answered
    finally:
        hold.release()
        planner.join(30)
    assert any(p.endswith(f"/vobjects/product__v/{first}") for p in while_held), while_held
    # A deep copy's objects are named by the object list; a clone's one object by its own metadata.
    listed = [p for p in _gets(sb, before) if p.split("?")[0].endswith("/metadata/vobjects")]
    if mode == "clone":
        assert listed == []
    else:  # read once, however many parts of the plan name objects by it
        assert len(listed) == 1 and listed[0] in while_held, listed
    assert plans and not plans[0].refused_reason, plans and plans[0].refused_reason
    assert plans[0].objects[0].label == "Products"


def test_in_a_transaction_the_reads_are_made_in_order_as_before(vault):
    from records.copying.preview import copy_preview
    from tests.fixtures.engine import copy_request

    sb, profile, conn = vault
    first = find_record(conn, "product__v", "Cardiostat")
    fresh = type(conn)(conn.config, conn.tokens)
    before = len(sb.log("vault"))
    request = copy_request(profile, "product__v", [first], "clone", overrides={"name__v": "Cardiostat In Order"})
    copy_preview(request=request, connector=fresh)
    gets = _gets(sb, before)
    describe = next(i for i, p in enumerate(gets) if p.endswith("/metadata/vobjects/product__v"))
    record = next(i for i, p in enumerate(gets) if p.endswith(f"/vobjects/product__v/{first}"))
    assert describe < record


PICKLISTS = r"^/api/v[\d.]+/objects/picklists/"


@pytest.mark.django_db(transaction=True)
def test_a_bulk_clones_unique_names_are_looked_up_while_the_picklists_are_read(vault):
    from records.copying.preview import copy_preview
    from tests.fixtures.engine import copy_request

    sb, profile, conn = vault
    ids = [find_record(conn, "product__v", name) for name in ("Cardiostat", "Neurolax")]
    fresh = type(conn)(conn.config, conn.tokens)  # nothing described yet
    before = len(sb.log("vault"))
    hold = sb.hooks("vault").hold("GET", PICKLISTS)  # the first picklist's answer held
    names = {ids[0]: {"name__v": "Neurolax"}, ids[1]: {"name__v": "Cardiostat Fresh"}}
    request = copy_request(profile, "product__v", ids, "clone", row_overrides=names)
    plans: list = []
    planner = threading.Thread(target=lambda: plans.append(copy_preview(request=request, connector=fresh)))
    planner.start()

    def holders() -> list:
        return [e for e in sb.log("vault")[before:] if e.method == "POST" and "name__v+IN" in e.body_summary]

    try:
        assert hold.wait(10)
        deadline = time.monotonic() + 10
        while not holders() and time.monotonic() < deadline:
            time.sleep(0.05)
        while_held = holders()
    finally:
        hold.release()
        planner.join(30)
    assert len(while_held) == 1  # the names' holders asked before the picklists were in
    assert plans and "“Neurolax” is already used" in plans[0].refused_reason


QUERY = r"^/api/v[\d.]+/query$"


def _queries(sb, count: int, where: str) -> list:
    return [e for e in sb.log("vault")[count:] if e.method == "POST" and where in e.body_summary]


def _until(check, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.02)
    return bool(check())


@pytest.mark.django_db(transaction=True)
def test_a_bulk_clones_trees_are_handed_over_while_the_holders_of_its_new_names_are_read(vault):
    from records.copying.preview import plan_copy
    from tests.fixtures.engine import copy_request

    sb, profile, conn = vault
    ids = [find_record(conn, "product__v", name) for name in ("Cardiostat", "Neurolax")]
    fresh = type(conn)(conn.config, conn.tokens)  # nothing described yet
    before = len(sb.log("vault"))
    described = sb.hooks("vault").hold("GET", DESCRIBE)  # the holders' query waits for the metadata
    names = {ids[0]: {"name__v": "Cardiostat Ahead"}, ids[1]: {"name__v": "Neurolax Ahead"}}
    request = copy_request(profile, "product__v", ids, "clone", row_overrides=names)
    handed: list = []
    held: list = []  # the hold on the holders' query, once placed

    def ready(trees) -> None:
        # What matters is that the holders' answer was not waited for: the hold is placed and the
        # query not yet answered (a held query enters the log once answered). Not an event the test
        # thread sets on seeing the hold reached: on a loaded machine the trees may come first.
        handed.append((bool(held) and not _queries(sb, before, "name__v+IN"), sorted(trees)))

    plans: list = []
    planner = threading.Thread(
        target=lambda: plans.append(plan_copy(request=request, connector=fresh, trees_ready=ready))
    )
    planner.start()
    holders = None
    try:
        assert described.wait(10)
        assert _until(lambda: _queries(sb, before, "id+IN"))  # the other record's name is in
        holders = sb.hooks("vault").hold("POST", QUERY)  # the next query: the holders of the new names
        held.append(holders)
        described.release()
        assert holders.wait(10)
        assert _until(lambda: bool(handed))
    finally:
        described.release()
        if holders is not None:
            holders.release()
        planner.join(30)
    assert handed == [(True, sorted(ids))]  # handed over while the holders' answer was held
    plan, trees = plans[0]
    assert not plan.refused_reason and sorted(trees) == sorted(ids)


@pytest.mark.django_db(transaction=True)
def test_a_bulk_clones_template_values_are_read_while_its_other_names_are(vault):
    from records.copying.preview import copy_preview
    from tests.fixtures.engine import copy_request

    sb, profile, conn = vault
    ids = [find_record(conn, "product__v", name) for name in ("Cardiostat", "Neurolax")]
    fresh = type(conn)(conn.config, conn.tokens)
    before = len(sb.log("vault"))
    names = sb.hooks("vault").hold("POST", QUERY)  # the first query: the other record's name
    request = copy_request(profile, "product__v", ids, "clone", overrides={"name__v": "{name__v} (templated)"})
    plans: list = []
    planner = threading.Thread(target=lambda: plans.append(copy_preview(request=request, connector=fresh)))
    planner.start()
    try:
        assert names.wait(10)
        # The values the template reads (the same query's shape) answered while the names' is held.
        read_while_held = _until(lambda: _queries(sb, before, "id+IN"))
    finally:
        names.release()
        planner.join(30)
    assert read_while_held
    assert plans and not plans[0].refused_reason, plans and plans[0].refused_reason
    assert any("(templated)" in str(s["value"]) for s in plans[0].samples)
