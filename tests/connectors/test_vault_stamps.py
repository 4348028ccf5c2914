"""VaultConnector: who made a record and when (created_date__v, modified_date__v, created_by__v),
find() bounded by creation time and creator, stamps(), api_user_id() and clock_offset(), over
real HTTP against the Vault sandbox (whose demo data another user loaded)."""

import datetime as dt
import time

import pytest

from records.connectors import vault_parse as vp
from records.connectors.base import CloneRequest
from records.connectors.vault_reads import NAMES_CHUNK
from sandbox import demo
from tests.fixtures.connectors import make_vault_connector

API_USER = str(demo.VAULT_USER_ID)
DEMO_TIME = dt.datetime(2024, 1, 15, 9, 30, tzinfo=dt.UTC)  # demo.DEMO_TIMESTAMP


def calls(sb, contains):
    return [e for e in sb.log("vault") if contains in e.path]


def now():
    return dt.datetime.now(dt.UTC)


def wait_past_the_second():
    """Vault keeps whole seconds: wait until a record created now reads later than one created
    before the wait."""
    time.sleep(1.05)


def product_id(conn, name):
    return next(r.id for r in conn.search("product__v", name).records if r.name == name)


def formulations_of(conn, product):
    return conn.find("formulation__c", {"product__c": product})


def clone_formulation(conn, source):
    [result] = conn.clone("formulation__c", [CloneRequest(source, {})])
    assert result.ok, result.error_message
    return result.new_id


def test_a_demo_record_says_it_was_made_by_the_data_user_long_ago(vault_connector):
    record = vault_connector.get("product__v", product_id(vault_connector, "Cardiostat"))
    assert record.created == record.modified == DEMO_TIME
    assert record.created_by == str(demo.VAULT_DATA_USER_ID) != API_USER


def test_a_copy_says_it_was_made_by_the_api_user_just_now(vault_connector):
    source = product_id(vault_connector, "Cardiostat")
    before = now().replace(microsecond=0)
    [result] = vault_connector.clone("product__v", [CloneRequest(source, {"name__v": "Cardiostat copy"})])
    record = vault_connector.get("product__v", result.new_id)
    assert record.created_by == API_USER
    assert before <= record.created <= now()
    assert record.modified == record.created
    assert record.created.tzinfo == dt.UTC


def test_find_keeps_only_records_created_since_the_bound(vault_connector):
    product = product_id(vault_connector, "Neurolax")
    source = formulations_of(vault_connector, product)[0].id
    early = clone_formulation(vault_connector, source)
    wait_past_the_second()
    bound = now()
    late = clone_formulation(vault_connector, source)

    found = vault_connector.find("formulation__c", {"product__c": product}, created_since=bound)

    assert [r.id for r in found] == [late]
    assert early in {r.id for r in formulations_of(vault_connector, product)}
    assert found[0].created >= bound.replace(microsecond=0)
    assert early not in {r.id for r in found}


def test_find_by_creator_leaves_out_the_demo_records(vault_connector):
    product = product_id(vault_connector, "Dermacalm")
    demo_ids = {r.id for r in formulations_of(vault_connector, product)}
    copy = clone_formulation(vault_connector, next(iter(demo_ids)))

    mine = vault_connector.find("formulation__c", {"product__c": product}, created_by=API_USER)
    theirs = vault_connector.find("formulation__c", {"product__c": product}, created_by=str(demo.VAULT_DATA_USER_ID))

    assert [r.id for r in mine] == [copy]
    assert {r.id for r in theirs} == demo_ids
    assert mine[0].created_by == API_USER and mine[0].created is not None


def test_find_without_equals_uses_the_creation_bounds_alone(vault_connector):
    source = product_id(vault_connector, "Pulmoflow")
    [result] = vault_connector.clone("product__v", [CloneRequest(source, {"name__v": "Pulmoflow copy"})])
    bound = now() - dt.timedelta(seconds=5)

    found = vault_connector.find("product__v", {}, created_since=bound, created_by=API_USER)

    assert [r.id for r in found] == [result.new_id]
    assert found[0].name == "Pulmoflow copy"
    assert vault_connector.find("product__v", {}) == []  # no condition at all: nothing is asked


def test_find_values_stay_literal_beside_the_bounds(vault_connector):
    hostile = "x' OR created_by__v != '0"
    assert vault_connector.find("product__v", {"name__v": hostile}, created_since=DEMO_TIME) == []
    assert vault_connector.find("product__v", {}, created_by=hostile) == []


def test_stamps_reads_names_and_stamps_a_chunk_of_ids_a_statement(vault_connector, sb_vault):
    ids = list(sb_vault.vault.state.records["packaging__c"])[: NAMES_CHUNK * 2 + 5]
    sb_vault.clear_log()

    found = vault_connector.stamps("packaging__c", [*ids, "V2P999999999999", "bad id!"])

    assert set(found) == set(ids)
    assert len([e for e in calls(sb_vault, "/query") if e.method == "POST"]) == 3
    record = found[ids[0]]
    assert record.name.startswith("PKG-")
    assert record.created == DEMO_TIME and record.created_by == str(demo.VAULT_DATA_USER_ID)


def test_stamps_of_nothing_makes_no_query(vault_connector, sb_vault):
    vault_connector.describe("product__v")
    sb_vault.clear_log()
    assert vault_connector.stamps("product__v", []) == {}
    assert calls(sb_vault, "/query") == []


def test_api_user_id_is_the_session_user_read_once(vault_connector, sb_vault):
    assert vault_connector.api_user_id() == API_USER
    assert vault_connector.api_user_id() == API_USER
    assert len(calls(sb_vault, "/objects/users/me")) == 1


def test_clock_offset_is_zero_before_any_answer_then_follows_the_date_header(sb_vault):
    conn = make_vault_connector(sb_vault.vault_url)
    assert conn.clock_offset() == dt.timedelta(0)
    conn.list_objects()
    assert abs(conn.clock_offset()) < dt.timedelta(seconds=2)

    sb_vault.set_clock_skew(-3600, "vault")
    conn.search("product__v")  # another answer (the object list is read once)

    assert abs(conn.clock_offset() + dt.timedelta(hours=1)) < dt.timedelta(seconds=2)


def test_a_skewed_vault_stamps_its_records_on_its_own_clock(vault_connector, sb_vault):
    sb_vault.set_clock_skew(600, "vault")
    source = product_id(vault_connector, "Gastrozen")
    [result] = vault_connector.clone("product__v", [CloneRequest(source, {"name__v": "Gastrozen copy"})])
    created = vault_connector.get("product__v", result.new_id).created
    remote_now = now() + vault_connector.clock_offset()

    assert abs(created - remote_now) < dt.timedelta(seconds=3)
    assert created - now() > dt.timedelta(minutes=9)


def test_a_profile_on_v26_3_logs_in_and_reads(sb_vault):
    conn = make_vault_connector(sb_vault.vault_url)
    conn.version = "v26.3"
    assert "1776" in conn.test_connection()
    assert conn.api_user_id() == API_USER
    assert all("/api/v26.3/" in e.path for e in sb_vault.log("vault"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-06T02:03:04.000Z", dt.datetime(2026, 12, 6, 2, 3, 4, tzinfo=dt.UTC)),
        ("2026-12-06T02:03:04.5Z", dt.datetime(2026, 12, 6, 2, 3, 4, 500000, tzinfo=dt.UTC)),
        ("2026-12-06T02:03:04", dt.datetime(2026, 12, 6, 2, 3, 4, tzinfo=dt.UTC)),
        ("yesterday", None),
        ("", None),
        (None, None),
        (1765000000, None),
    ],
)
def test_datetimes_parse_to_utc_or_none(value, expected):
    assert vp.parse_datetime(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(61603, "61603"), ("61603", "61603"), ({"id": 7}, "7"), (None, ""), (True, ""), ([], "")]
)
def test_user_references_become_id_strings(value, expected):
    assert vp.user_ref(value) == expected


def test_the_vql_datetime_literal_is_utc_floored_to_the_second_vault_keeps():
    plus_two = dt.timezone(dt.timedelta(hours=2))
    value = dt.datetime(2026, 12, 6, 4, 3, 4, 987654, tzinfo=plus_two)
    assert vp.vql_datetime(value) == "'2026-12-06T02:03:04.000Z'"


def test_a_record_created_in_the_bounds_own_second_is_found(vault_connector):
    """Vault keeps whole seconds: a copy made 0.3 s after a bound of 02:03:04.9 may read
    02:03:05.000 or 02:03:04.000; either way find() must not lose it."""
    product = product_id(vault_connector, "Osteofirm")
    source = formulations_of(vault_connector, product)[0].id
    while now().microsecond < 600_000:  # a bound late in its second
        time.sleep(0.05)
    bound = now()
    copy = clone_formulation(vault_connector, source)
    assert [r.id for r in vault_connector.find("formulation__c", {"product__c": product}, created_since=bound)] == [
        copy
    ]


@pytest.fixture
def sb_vault(fresh_sandbox):
    return fresh_sandbox
