"""Vault emulator: deep copy, job status and result files (api-notes vault.md §5)."""

import csv
import io
import time
from collections import Counter

from sandbox.vault_schema import child_relations


def _deep_copy(api, name, overrides=None):
    pid = api.product_id(name)
    body = api.post(f"vobjects/product__v/{pid}/actions/deepcopy", json=[overrides] if overrides else None)
    return pid, body


def _csv(api, which, job_id):
    resp = api.request("GET", f"vobjects/deepcopy/results/product__v/{which}/{job_id}")
    assert resp.headers["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(resp.text)))


def test_5_1_deep_copy_copies_children_and_grandchildren_repointed(vault_api):
    src, body = _deep_copy(vault_api, "Dermacalm", {"name__v": "Dermacalm copy"})
    assert body["responseStatus"] == "SUCCESS" and isinstance(body["job_id"], int)
    assert body["url"] == f"/api/v26.3/services/jobs/{body['job_id']}"
    assert vault_api.wait_job(body["job_id"])["status"] == "SUCCESS"
    new = vault_api.product_id("Dermacalm copy")
    q = "SELECT id, (SELECT id FROM packagings__cr) FROM formulation__c WHERE product__c = '{}'"
    old_forms, new_forms = vault_api.query(q.format(src))["data"], vault_api.query(q.format(new))["data"]
    assert len(new_forms) == len(old_forms) == 4
    assert {f["id"] for f in new_forms}.isdisjoint(f["id"] for f in old_forms)
    assert [f["packagings__cr"]["responseDetails"]["total"] for f in new_forms] == [7, 7, 7, 7]
    rows = _csv(vault_api, "success", body["job_id"])
    assert rows[0] == ["vobject", "sourceRecordId", "targetRecordId"]
    assert rows[1] == ["product__v", src, new] and len(rows) == 1 + 1 + 4 + 28


def test_5_1_overrides_apply_to_top_record_and_empty_blanks(vault_api):
    _, body = _deep_copy(vault_api, "Dermacalm", {"name__v": "D2", "description__c": ""})
    vault_api.wait_job(body["job_id"])
    data = vault_api.get(f"vobjects/product__v/{vault_api.product_id('D2')}")["data"]
    assert data["description__c"] is None and data["external_id__v"] is None  # no_copy


def test_5_1_more_than_one_override_row_is_refused(vault_api):
    pid = vault_api.product_id("Dermacalm")
    body = vault_api.post(f"vobjects/product__v/{pid}/actions/deepcopy", json=[{"name__v": "a"}, {"name__v": "b"}])
    assert body["responseStatus"] == "FAILURE" and body["errors"][0]["type"] == "INVALID_DATA"


def test_5_1_more_than_10000_related_records_is_refused(vault_api):
    _, body = _deep_copy(vault_api, "Mega Product", {"name__v": "Mega copy"})
    assert body["responseStatus"] == "FAILURE" and body["errors"][0]["type"] == "OPERATION_NOT_ALLOWED"


def test_5_1_unknown_record_is_insufficient_access(vault_api):
    body = vault_api.post("vobjects/product__v/00P999999999999/actions/deepcopy")
    assert body["errors"][0]["type"] == "INSUFFICIENT_ACCESS"


def test_5_1_copies_a_10000_record_hierarchy_in_linear_work(vault_api, monkeypatch):
    """Each record is written once and each parent's children are looked up once per relationship
    (through the reference index) for the size check and once for the copy: work linear in the
    hierarchy, so a 10,000-record copy stays quick. Counted, not timed: a busy machine can't fail it."""
    vault_api.sb.vault.configure(deep_copy_max_related=20_000)
    state, counts = vault_api.sb.vault.state, Counter()
    for name in ("apply_row", "children_of"):
        monkeypatch.setattr(state, name, _counted(counts, name, getattr(state, name)))
    _, body = _deep_copy(vault_api, "Mega Product", {"name__v": "Mega copy"})
    assert vault_api.wait_job(body["job_id"])["status"] == "SUCCESS"
    rows = _csv(vault_api, "success", body["job_id"])[1:]  # less the header
    assert len(rows) > 10_000 and len(state.records["packaging__c"]) > 20_000
    assert counts["apply_row"] == len(rows)
    # Products (formulations, contacts) and formulations (packagings) have children: looked up
    # once per relationship for the size check, once for the copy.
    relations = {o: len(list(child_relations(state.schema, o, hierarchical_only=True))) for o in state.schema}
    assert relations["product__v"] == 2 and relations["formulation__c"] == 1
    assert counts["children_of"] == sum(2 * relations[row[0]] for row in rows)  # row[0]: the vobject


def _counted(counts, name, function):
    def counted(*args, **kwargs):
        counts[name] += 1
        return function(*args, **kwargs)

    return counted


def test_5_1_without_no_copy_children_fail_unique_checks(vault_api):
    vault_api.sb.vault.configure(deep_copy_honour_no_copy=False)
    _, body = _deep_copy(vault_api, "Dermacalm", {"name__v": "D3", "external_id__v": ""})
    job = vault_api.wait_job(body["job_id"])
    assert job["status"] == "ERRORS_ENCOUNTERED"
    failures = _csv(vault_api, "failure", body["job_id"])
    assert failures[0] == ["line number", "vobject", "sourceRecordId", "errors"]
    assert len(failures) == 1 + 28 and failures[1][1] == "packaging__c"
    assert failures[1][3].startswith('"OPERATION_NOT_ALLOWED|Another resource already exists with [gtin__c=')
    assert len(_csv(vault_api, "success", body["job_id"])) == 1 + 1 + 4


def test_5_3_top_record_failure_is_reported_in_failure_file(vault_api):
    src, body = _deep_copy(vault_api, "Dermacalm")  # no name override: name__v is unique
    assert vault_api.wait_job(body["job_id"])["status"] == "ERRORS_ENCOUNTERED"
    rows = _csv(vault_api, "failure", body["job_id"])
    assert rows[1][:3] == ["1", "product__v", src]
    assert rows[1][3] == '"OPERATION_NOT_ALLOWED|Another resource already exists with [name__v=Dermacalm]"'


def test_5_3_success_columns_setting_without_target_id(vault_api):
    vault_api.sb.vault.configure(deepcopy_success_columns=("vobject", "sourceRecordId"))
    _, body = _deep_copy(vault_api, "Dermacalm", {"name__v": "D4"})
    vault_api.wait_job(body["job_id"])
    assert _csv(vault_api, "success", body["job_id"])[0] == ["vobject", "sourceRecordId"]


def test_5_3_results_of_unknown_or_running_job_are_json_errors(vault_api):
    resp = vault_api.request("GET", "vobjects/deepcopy/results/product__v/success/999999")
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.json()["errors"][0]["type"] == "INVALID_DATA"
    vault_api.sb.vault.configure(job_queue_seconds=1.0)
    _, body = _deep_copy(vault_api, "Dermacalm", {"name__v": "D5"})
    running = vault_api.get(f"vobjects/deepcopy/results/product__v/success/{body['job_id']}")
    assert running["errors"][0]["type"] == "OPERATION_IN_PROGRESS"


def test_5_2_job_moves_queued_running_success(vault_api):
    # Queued for 1 s, then running for 2 s: each look lands a second or more inside its phase, so
    # a busy machine's slow call does not step over one (0.3 s and 0.5 s did, under load).
    vault_api.sb.vault.configure(job_queue_seconds=1.0, job_min_run_seconds=2.0)
    _, body = _deep_copy(vault_api, "Dermacalm", {"name__v": "D6"})
    seen = [vault_api.get(f"services/jobs/{body['job_id']}")["data"]["status"]]
    time.sleep(1.5)
    seen.append(vault_api.get(f"services/jobs/{body['job_id']}")["data"]["status"])
    seen.append(vault_api.wait_job(body["job_id"])["status"])
    assert seen == ["QUEUED", "RUNNING", "SUCCESS"]


def test_5_2_polling_faster_than_the_interval_is_api_limit_exceeded(vault_api):
    vault_api.sb.vault.configure(job_poll_interval=10)
    _, body = _deep_copy(vault_api, "Dermacalm", {"name__v": "D7"})
    assert vault_api.get(f"services/jobs/{body['job_id']}")["responseStatus"] == "SUCCESS"
    again = vault_api.get(f"services/jobs/{body['job_id']}")
    assert again["responseStatus"] == "FAILURE" and again["errors"][0]["type"] == "API_LIMIT_EXCEEDED"
