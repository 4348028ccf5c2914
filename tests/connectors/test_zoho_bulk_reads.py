"""A level of a Zoho tree read by Bulk Read when the rule says so, over real HTTP to the sandbox:
counted first once a COQL page says more follow, then read by one job; a small level stays on
COQL and is never counted; the plan's level line says which path the read took and why."""

import pytest

from records.connectors.zoho_bulk_costs import BulkReadTerms
from records.copying.level_paths import plan_level_paths
from records.copying.tree import read_tree
from tests.fixtures.connectors import make_zoho_connector

LEVEL = 3000
# Lowered bulk read terms: a job as cheap and quick as this makes the rule take Bulk Read at 3,000
# rows (the real terms take it from 34,001 rows under one chunk of parents: zoho_bulk_costs.py).
CHEAP_JOB = BulkReadTerms(credits=1, job_seconds=0.0)
LEAVES = frozenset({"Notes", "Tasks", "Events", "Calls", "Deals", "Cases", "Attachments"})


@pytest.fixture
def conn(fresh_sandbox):
    conn = make_zoho_connector(fresh_sandbox)
    conn.bulk.poll_seconds = 0.05
    conn.bulk.wait_seconds = 30
    return conn


def account_with_contacts(sb, n):
    with sb.zoho.state.lock:
        account = sb.zoho.state.add("Accounts", {"Account_Name": f"Level of {n}"})["id"]
        made = {sb.zoho.state.add("Contacts", {"Last_Name": f"C{i}", "Account_Name": account})["id"] for i in range(n)}
    return account, made


def coql_calls(sb, text):
    return [e for e in sb.log("zoho") if e.path.endswith("/coql") and text in e.body_summary]


def bulk_read_posts(sb):
    return [e for e in sb.log("zoho") if e.method == "POST" and e.path.rstrip("/").endswith("/bulk/v7/read")]


def contacts_read(nodes, account):
    contacts = [n for n in nodes if n.object_name == "Contacts"]
    assert {n.parent_source_id for n in contacts} == {account}
    return {n.source_id for n in contacts}


def test_a_level_of_3000_is_read_by_one_bulk_job_when_the_rule_takes_it(fresh_sandbox, conn):
    sb = fresh_sandbox
    account, made = account_with_contacts(sb, LEVEL)
    conn.bulk_levels.terms = CHEAP_JOB
    nodes = read_tree(conn, "Accounts", account, exclude=LEAVES)
    assert contacts_read(nodes, account) == made and len(nodes) == LEVEL + 1  # each contact once
    assert len(bulk_read_posts(sb)) == 1
    assert len(coql_calls(sb, "COUNT(id) from Contacts")) == 1
    pages = [e for e in coql_calls(sb, "select id, Full_Name")]  # Contacts' columns, the name first
    assert len(pages) == 1  # the first page only: the rest came from the job's file
    contact = nodes[-1]  # read from the job's file: a lookup is its id, as COQL gives it
    assert contact.fields["Account_Name"] == {"id": account} and contact.fields["Last_Name"].startswith("C")
    (level,) = [lv for lv in plan_level_paths(conn, nodes) if lv["object"] == "Contacts"]
    assert level["read"]["path"] == "bulk" and "read by Bulk Read: 4 credits" in level["line"]


def test_a_level_of_3000_stays_on_coql_at_the_real_terms(fresh_sandbox, conn):
    sb = fresh_sandbox
    account, made = account_with_contacts(sb, LEVEL)
    nodes = read_tree(conn, "Accounts", account, exclude=LEAVES)
    assert contacts_read(nodes, account) == made
    assert bulk_read_posts(sb) == []
    assert len(coql_calls(sb, "COUNT(id) from Contacts")) == 1  # counted: the first page said more follow
    assert len(coql_calls(sb, "select id, Full_Name")) == 2  # and read by its two pages
    (level,) = [lv for lv in plan_level_paths(conn, nodes) if lv["object"] == "Contacts"]
    assert level["read"]["path"] == "api" and "Bulk Read would cost 53 credits for 3,000 records" in level["line"]


def test_a_small_level_is_read_by_coql_and_never_counted(fresh_sandbox, conn):
    sb = fresh_sandbox
    account, made = account_with_contacts(sb, 40)
    conn.bulk_levels.terms = CHEAP_JOB
    nodes = read_tree(conn, "Accounts", account, exclude=LEAVES)
    assert contacts_read(nodes, account) == made
    assert bulk_read_posts(sb) == [] and coql_calls(sb, "COUNT(") == []
    (level,) = [lv for lv in plan_level_paths(conn, nodes) if lv["object"] == "Contacts"]
    assert level["read"]["path"] == "api"
