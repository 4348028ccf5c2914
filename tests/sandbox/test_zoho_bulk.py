"""Zoho emulator: Bulk Read and Bulk Write as docs/zoho-bulk-api.md describes them (raw HTTP)."""

import csv
import io
import time
import zipfile

BULK = "/crm/bulk/v7"


def bulk(api, method, path, **kwargs):
    return api.http.request(method, f"{api.url}{BULK}/{path}", timeout=10, **kwargs)


def wait_done(api, kind, job_id):
    for _ in range(100):
        body = bulk(api, "GET", f"{kind}/{job_id}").json()
        job = body["data"][0] if kind == "read" else body
        if job.get("state", job.get("status")) == "COMPLETED":
            return job
        time.sleep(0.05)
    raise AssertionError("the job never finished")


def csv_of(zipped):
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        (name,) = archive.namelist()
        return name, list(csv.reader(io.TextIOWrapper(archive.open(name), "utf-8")))


def zipped_csv(rows):
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("Contacts.csv", text.getvalue())
    return out.getvalue()


def upload(api, data, **headers):
    headers = {"feature": "bulk-write", "X-CRM-ORG": "57257670", **headers}
    files = {"file": ("records.zip", data, "application/zip")}
    return api.http.post(f"{api.base}/upload", files=files, headers=headers, timeout=10)


def test_a_read_job_is_added_then_completed_and_its_result_is_a_zipped_csv(zoho_api):
    acc = zoho_api.account_id("Acme Corp")
    query = {"module": {"api_name": "Contacts"}, "fields": ["Last_Name", "Account_Name"]}
    query["criteria"] = {"api_name": "Account_Name", "comparator": "in", "value": [acc]}
    r = bulk(zoho_api, "POST", "read", json={"query": query})
    assert r.status_code == 201
    entry = r.json()["data"][0]
    assert entry["code"] == "ADDED_SUCCESSFULLY" and entry["details"]["state"] == "ADDED"
    job = bulk(zoho_api, "GET", f"read/{entry['details']['id']}").json()["data"][0]
    assert job["state"] == "ADDED" and "result" not in job  # it runs a moment later
    job = wait_done(zoho_api, "read", entry["details"]["id"])
    assert job["result"]["per_page"] == 200_000 and job["result"]["more_records"] is False
    result = zoho_api.http.get(job["result"]["download_url"], timeout=10)
    assert result.headers["Content-Type"] == "application/zip"
    name, rows = csv_of(result.content)
    contacts = zoho_api.sb.zoho.state.records["Contacts"].values()
    assert name == f"{entry['details']['id']}.csv" and rows[0] == ["Id", "Last_Name", "Account_Name"]
    assert {r[0] for r in rows[1:]} == {c["id"] for c in contacts if c["Account_Name"] == acc}
    assert job["result"]["count"] == len(rows) - 1


def test_a_read_job_refuses_an_unknown_field_and_notes(zoho_api):
    r = bulk(zoho_api, "POST", "read", json={"query": {"module": {"api_name": "Contacts"}, "fields": ["Nope"]}})
    assert r.status_code == 400 and r.json()["code"] == "INVALID_DATA"
    r = bulk(zoho_api, "POST", "read", json={"query": {"module": {"api_name": "Notes"}}})
    assert r.status_code == 400


def test_a_write_job_inserts_the_uploaded_rows_and_maps_each_to_its_id(zoho_api):
    sb = zoho_api.sb
    acc = zoho_api.account_id("Acme Corp")
    data = zipped_csv(
        [["Copy_Key", "Last_Name", "Account_Name"], ["k1", "One", acc], ["k2", "", acc], ["k3", "Three", acc]]
    )
    r = upload(zoho_api, data)
    assert r.status_code == 200 and r.json()["code"] == "FILE_UPLOAD_SUCCESS"
    file_id = r.json()["details"]["file_id"]
    mappings = [{"api_name": "Copy_Key", "index": 0}, {"api_name": "Last_Name", "index": 1}]
    mappings.append({"api_name": "Account_Name", "index": 2, "find_by": "id"})
    resource = {"type": "data", "module": {"api_name": "Contacts"}, "file_id": file_id, "field_mappings": mappings}
    before = sb.zoho.credits_used
    r = bulk(zoho_api, "POST", "write", json={"operation": "insert", "resource": [resource]})
    assert r.status_code == 201 and r.json()["code"] == "SUCCESS"
    assert sb.zoho.credits_used - before == 500
    job = wait_done(zoho_api, "write", r.json()["details"]["id"])
    counts = job["resource"][0]["file"]
    assert (counts["added_count"], counts["skipped_count"], counts["total_count"]) == (2, 1, 3)
    _, rows = csv_of(zoho_api.http.get(job["result"]["download_url"], timeout=10).content)
    assert rows[0] == ["Copy_Key", "Last_Name", "Account_Name", "STATUS", "RECORD_ID", "ERRORS"]
    assert [r[3] for r in rows[1:]] == ["Added", "Skipped", "Added"]
    assert rows[2][5] == "MANDATORY_NOT_FOUND-Last_Name"
    assert sb.zoho.state.get("Contacts", rows[1][4])["Copy_Key"] == "k1"


def test_an_upload_needs_the_bulk_write_feature_and_the_org_and_a_zip(zoho_api):
    data = zipped_csv([["Last_Name"], ["A"]])
    assert upload(zoho_api, data, feature="").status_code == 400
    assert upload(zoho_api, data, **{"X-CRM-ORG": "1"}).status_code == 400
    assert upload(zoho_api, b"Last_Name\nA\n").json()["code"] == "INVALID_FILE_FORMAT"


def test_a_job_runs_though_nobody_polls_it_and_a_reset_forgets_it(zoho_api):
    sb = zoho_api.sb
    acc = zoho_api.account_id("Acme Corp")
    file_id = upload(zoho_api, zipped_csv([["Last_Name", "Account_Name"], ["Quiet", acc]])).json()["details"]["file_id"]
    mappings = [{"api_name": "Last_Name", "index": 0}, {"api_name": "Account_Name", "index": 1}]
    resource = {"type": "data", "module": {"api_name": "Contacts"}, "file_id": file_id, "field_mappings": mappings}
    job_id = bulk(zoho_api, "POST", "write", json={"operation": "insert", "resource": [resource]}).json()["details"][
        "id"
    ]
    for _ in range(100):
        if any(c["Last_Name"] == "Quiet" for c in sb.zoho.state.records["Contacts"].values()):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the unpolled job never ran")
    sb.reset()
    fresh = type(zoho_api)(sb)
    assert bulk(fresh, "GET", f"write/{job_id}").status_code == 404
