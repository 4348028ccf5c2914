"""Names read in batches: Connector.names over HTTP against the sandbox, in as few calls as each API
allows, and every row of a bulk clone carrying its name."""

import pytest

from records.copying.job_create import copy_job_create
from records.copying.preview import copy_preview
from tests.fixtures.engine import copy_request

VAULT_NAMES = ["Cardiostat", "Neurolax", "Dermacalm", "Linked Product"]


def vault_ids(conn, names):
    found = {r.name: r.id for r in conn.search("product__v", "", per_page=100).records}
    return [found[n] for n in names]


def queries(sb):
    return [e for e in sb.log("vault") if e.method == "POST" and e.path.endswith("/query")]


def zoho_reads(sb, module):
    return [e for e in sb.log("zoho") if e.method == "GET" and e.path.split("?")[0].endswith(f"/{module}")]


def test_vault_names_in_one_query_ids_not_found_left_out(vault):
    sb, _, conn = vault
    ids = vault_ids(conn, VAULT_NAMES)
    conn.describe("product__v")  # metadata is not what is counted
    sb.clear_log("vault")
    names = conn.names("product__v", [*ids, "00P999999999999", ids[0]])
    assert names == dict(zip(ids, VAULT_NAMES, strict=True))
    assert len(queries(sb)) == 1


def test_vault_names_of_more_than_one_chunk(vault):
    sb, _, conn = vault
    records = list(sb.vault.state.records["packaging__c"].values())[:1200]
    conn.describe("packaging__c")
    sb.clear_log("vault")
    names = conn.names("packaging__c", [r["id"] for r in records])
    assert names == {r["id"]: r["name__v"] for r in records}
    assert len(queries(sb)) == 2  # 1,000 ids a statement, each answered on one page


def test_zoho_names_in_one_get_by_ids(zoho):
    sb, _, conn = zoho
    accounts = conn.search("Accounts", "", per_page=5).records
    conn.describe("Accounts")
    sb.clear_log("zoho")
    names = conn.names("Accounts", [a.id for a in accounts] + ["1234567890123456789"])
    assert names == {a.id: a.name for a in accounts} and all(names.values())
    assert len(zoho_reads(sb, "Accounts")) == 1
    contacts = conn.search("Contacts", "", per_page=3).records
    assert conn.names("Contacts", [c.id for c in contacts]) == {c.id: c.name for c in contacts}


def test_field_values_of_many_records_in_one_call_each_system(vault, zoho):
    """What a bulk clone's preview renders every record's templates with: the named fields of each
    record found (an id not found, or a field the object lacks, left out), in one call."""
    vsb, _, vconn = vault
    ids = vault_ids(vconn, VAULT_NAMES)
    vconn.describe("product__v")
    vsb.clear_log("vault")
    got = vconn.field_values("product__v", [*ids, "00P999999999999"], ["name__v", "description__c", "no_such__c"])
    assert (
        list(got) == ids
        and got[ids[0]]["name__v"] == "Cardiostat"
        and set(got[ids[0]]) == {"name__v", "description__c"}
    )
    assert got[ids[0]]["description__c"] == vconn.get("product__v", ids[0]).fields["description__c"]
    assert len(queries(vsb)) == 1
    zsb, _, zconn = zoho
    accounts = zconn.search("Accounts", "", per_page=5).records
    zconn.describe("Accounts")
    zsb.clear_log("zoho")
    got = zconn.field_values("Accounts", [a.id for a in accounts] + ["1234567890123456789"], ["Description", "Phone"])
    assert got == {a.id: {f: zconn.get("Accounts", a.id).fields[f] for f in ("Description", "Phone")} for a in accounts}
    assert len(zoho_reads(zsb, "Accounts")) == 1


@pytest.mark.django_db
def test_every_bulk_clone_row_carries_its_name_and_a_missing_id_is_a_warning(vault, owner):
    sb, profile, conn = vault
    ids = vault_ids(conn, VAULT_NAMES[:3])
    bogus = "00P999999999999"
    plan = copy_preview(request=copy_request(profile, "product__v", [*ids, bogus], "clone", overrides={}))
    assert any(bogus in w and "not found" in w for w in plan.warnings), plan.warnings
    row_overrides = {i: {"name__v": f"{n} (copy)"} for i, n in zip(ids, VAULT_NAMES, strict=False)}
    sb.clear_log("vault")
    job = copy_job_create(
        request=copy_request(profile, "product__v", ids, "clone", row_overrides=row_overrides),
        user=owner,
        enqueue=False,
    )
    rows = dict(job.results.values_list("source_id", "source_name"))
    assert rows == dict(zip(ids, VAULT_NAMES[:3], strict=True))
    # The first record's GET, then one query for the other two names and one for whether another
    # record holds the new names already (Connector.holders).
    assert len(queries(sb)) == 2
    creates = [e for e in sb.log("vault") if e.method == "POST" and "/vobjects/" in e.path]
    assert not creates  # planning reads only


def test_vault_names_of_an_object_that_does_not_exist_says_so_as_its_describe_does(vault):
    from records.connectors.errors import ConnectorError

    _, _, conn = vault
    with pytest.raises(ConnectorError) as described:
        conn.describe("no_such__c")
    with pytest.raises(ConnectorError) as named:
        conn.names("no_such__c", ["00P000000000001"])
    assert type(named.value) is type(described.value)
    assert named.value.error_type == described.value.error_type
