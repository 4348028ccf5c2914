"""Copy by query: the records a filter matches, newest first, capped by the limit, found before the
plan reads their trees; the preview says how many and names the first; bad filters, no match and
a limit above the maximum are refused before anything is queued (services and the `copy` command)."""

import io
import json
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from records.copying.job_create import copy_job_create
from records.copying.options import CopyOptions
from records.copying.preview import copy_preview
from records.models import CopyJob
from tests.fixtures.engine import copy_request

pytestmark = pytest.mark.django_db
CLONE, DEEP = CopyJob.Mode.CLONE, CopyJob.Mode.DEEP_COPY


def by_query(profile, object_name, where, mode=CLONE, *, limit=None, ids=(), **kw):
    options = CopyOptions(source_filter=where, source_limit=limit)
    return copy_request(profile, object_name, ids, mode, options=options, **kw)


def test_vault_query_takes_the_newest_matching_records_up_to_the_limit(vault):
    sb, profile, conn = vault
    made = []
    for name, status in (("Q1", "active__v"), ("Q2", "inactive__v"), ("Q3", "active__v"), ("Q4", "active__v")):
        made += [r.new_id for r in conn.create("product__v", [{"name__v": name, "status__v": [status]}])]
        time.sleep(1.1)  # Vault keeps creation times to the second: each one newer than the last
    request = by_query(
        profile, "product__v", "status__v = 'active__v'", limit=3, overrides={"name__v": "{name__v} (copy)"}
    )
    plan = copy_preview(request=request, connector=conn)
    assert not plan.refused_reason, plan.refused_reason
    assert plan.source_ids == [made[3], made[2], made[0]]  # the newest active ones, newest first
    query = plan.cross["query"]
    assert query["count"] == 3 and query["limit"] == 3 and query["more"] is True
    assert query["first"] == [
        {"id": made[3], "name": "Q4"},
        {"id": made[2], "name": "Q3"},
        {"id": made[0], "name": "Q1"},
    ]
    assert plan.total == 3  # three clones, each a tree of one


def test_zoho_query_deep_copy_plans_each_matching_record_with_its_tree(zoho):
    sb, profile, conn = zoho
    retail = [r for r in conn.search("Accounts", "", per_page=200).records if r.fields.get("Industry") == "Retail"]
    plan = copy_preview(
        request=by_query(profile, "Accounts", "(Industry:equals:Retail)", DEEP, limit=len(retail)), connector=conn
    )
    assert sorted(plan.source_ids) == sorted(r.id for r in retail)
    assert plan.cross["query"]["more"] is False and plan.cross["query"]["count"] == len(retail)
    assert plan.related_total > 0  # each account's contacts, deals, tasks and notes


def test_query_job_keeps_the_ids_it_found(zoho, owner):
    sb, profile, conn = zoho
    request = by_query(profile, "Accounts", "(Account_Name:starts_with:Acme)", limit=5)
    job = copy_job_create(request=request, user=owner, enqueue=False, connector=conn)
    acme = [r.id for r in conn.search("Accounts", "", per_page=200).records if r.name.startswith("Acme")]
    assert sorted(job.source_ids) == sorted(acme) and job.results.count() == len(acme)
    assert job.options["source_filter"] == "(Account_Name:starts_with:Acme)"


@pytest.mark.parametrize(
    ("where", "limit", "ids", "says"),
    [
        ("status__v = 'active__v' OR", None, (), "The filter can't be used"),
        ("colour__c = 'red'", None, (), "no field 'colour__c'"),
        (r"name__v = 'O\'Brien'", None, (), "No product__v record matches"),
        ("name__v = 'x'); DELETE", None, (), "The filter can't be used"),
        ("status__v = 'active__v'", 1001, (), "between 1 and 1,000"),
        ("status__v = 'active__v'", None, ("00P000000000001",), "ids or a filter, not both"),
    ],
)
def test_bad_queries_refused_before_anything_is_planned(vault, where, limit, ids, says):
    sb, profile, conn = vault
    with pytest.raises(ValidationError, match=says.replace("(", r"\(")):
        copy_preview(request=by_query(profile, "product__v", where, limit=limit, ids=ids), connector=conn)
    assert CopyJob.objects.count() == 0


def test_a_limit_without_a_filter_is_refused(zoho):
    sb, profile, conn = zoho
    request = copy_request(profile, "Accounts", ["1234567"], CLONE, options=CopyOptions(source_limit=5))
    with pytest.raises(ValidationError, match="give a filter with it"):
        copy_preview(request=request, connector=conn)


def test_zoho_quote_in_a_value_is_a_value(zoho):
    sb, profile, conn = zoho
    with pytest.raises(ValidationError, match="No Accounts record matches"):
        copy_preview(request=by_query(profile, "Accounts", "(Account_Name:equals:O'Hara' or '1'='1)"), connector=conn)


def test_default_limit_from_the_setting(zoho, settings):
    sb, profile, conn = zoho
    settings.COPY_QUERY_DEFAULT_LIMIT = 2
    plan = copy_preview(request=by_query(profile, "Accounts", "(Industry:not_equal:Nothing)"), connector=conn)
    assert len(plan.source_ids) == 2 and plan.cross["query"]["limit"] == 2 and plan.cross["query"]["more"]


def cmd(*args):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command(*args, stdout=out, stderr=err)
    return exc.value.code, out.getvalue(), err.getvalue()


def test_copy_command_where_preview_and_refusal(vault):
    sb, profile, conn = vault
    code, out, err = cmd(
        "copy",
        profile.name,
        "product__v",
        "--where",
        "status__v = 'active__v'",
        "--limit",
        "2",
        "--set",
        "name__v={name__v} (copy)",
        "--preview",
        "--json",
    )
    assert code == 0, out
    query = json.loads(out)["cross"]["query"]
    assert query["count"] == 2 and query["filter"] == "status__v = 'active__v'" and len(query["first"]) == 2
    code, out, err = cmd(
        "copy", profile.name, "product__v", "--where", "name__v LIKE 'Cardio%'", "--set", "name__v=X", "--preview"
    )
    assert code == 0 and "1 record matches \"name__v LIKE 'Cardio%'\": Cardiostat." in out, out + err
    code, out, err = cmd("copy", profile.name, "product__v", "--where", "nope__c = 1", "--preview")
    assert code == 2 and "no field 'nope__c'" in err
    code, out, err = cmd(
        "copy", profile.name, "product__v", "--where", "status__v = 'active__v'", "--limit", "5000", "--preview"
    )
    assert code == 2 and "between 1 and 1,000" in err


def test_copy_command_filter_matching_nothing_exits_2_before_anything_is_queued(vault):
    sb, profile, conn = vault
    code, _, err = cmd("copy", profile.name, "product__v", "--where", "name__v = 'No such product'", "--sync")
    assert code == 2 and "No product__v record matches" in err
    assert CopyJob.objects.count() == 0
