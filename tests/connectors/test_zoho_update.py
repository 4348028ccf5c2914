"""ZohoConnector.update: Update Records `PUT /{module}` (api-notes zoho.md §3.3) over HTTP against the
sandbox: ≤ 100 rows a call, each with its id, per-row results in input order, `trigger: []` unless
workflows may run, a lost answer is OutcomeUnknown (the engine sends the update again on resume)."""

import pytest

from records.connectors.base import Automation, NotFound, OutcomeUnknown
from tests.fixtures.sandbox import find_record


def contacts(sb, n):
    return sorted(sb.zoho.state.records["Contacts"])[:n]


def puts(sb):
    return [e for e in sb.log("zoho") if e.method == "PUT"]


def test_updates_in_calls_of_100_with_per_row_results(fresh_sandbox, zoho_connector):
    sb = fresh_sandbox
    ids = contacts(sb, 150)
    boss = ids[0]
    results = zoho_connector.update("Contacts", [{"id": i, "Reports_To": {"id": boss}} for i in ids])
    assert [r.ok for r in results] == [True] * 150 and [r.new_id for r in results] == ids
    assert len(puts(sb)) == 2
    assert all(sb.zoho.state.get("Contacts", i)["Reports_To"] == boss for i in ids)
    assert [a["trigger"] for a in sb.zoho.state.actions if a["op"] == "update"] == [[], []]


def test_a_refused_row_is_its_own_typed_result(fresh_sandbox, zoho_connector):
    sb = fresh_sandbox
    a, b = contacts(sb, 2)
    results = zoho_connector.update(
        "Contacts", [{"id": a, "Reports_To": {"id": "1"}}, {"id": b, "Mailing_City": "Lyon"}]
    )
    assert not results[0].ok and results[0].error_type == "INVALID_DATA" and results[0].field == "Reports_To"
    assert results[1].ok and results[1].new_id == b
    assert sb.zoho.state.get("Contacts", b)["Mailing_City"] == "Lyon"
    assert sb.zoho.state.get("Contacts", a).get("Reports_To") is None


def test_an_unknown_module_is_not_found_and_a_row_without_id_never_sent(fresh_sandbox, zoho_connector):
    with pytest.raises(NotFound):  # INVALID_MODULE
        zoho_connector.update("Nope", [{"id": "1", "Name": "x"}])
    with pytest.raises(ValueError):
        zoho_connector.update("Contacts", [{"Last_Name": "x"}])
    assert len(puts(fresh_sandbox)) == 1  # only the unknown module's call


def test_workflows_run_when_the_user_lets_them(fresh_sandbox, zoho_connector):
    sb = fresh_sandbox
    zoho_connector.automation = Automation(run_workflows=True)
    acc = find_record(zoho_connector, "Accounts", "Globex")
    assert zoho_connector.update("Accounts", [{"id": acc, "Phone": "+1 555 9999"}])[0].ok
    action = next(a for a in sb.zoho.state.actions if a["op"] == "update")
    assert action["trigger"] is None and action["automations_ran"]


def test_a_lost_answer_is_outcome_unknown(fresh_sandbox, zoho_connector):
    sb = fresh_sandbox
    (a,) = contacts(sb, 1)
    sb.faults("zoho").set(p_drop_after_write=1.0, drop_method="PUT", seed=1)
    with pytest.raises(OutcomeUnknown):
        zoho_connector.update("Contacts", [{"id": a, "Mailing_City": "Lyon"}])
    assert sb.zoho.state.get("Contacts", a)["Mailing_City"] == "Lyon"  # applied, answer lost
    assert len(puts(sb)) == 1  # not resent by the connector


def test_update_result_parsing():
    from records.connectors import zoho_parse as zp

    ok = {"code": "SUCCESS", "details": {"id": "42"}, "message": "record updated", "status": "success"}
    assert zp.update_result(ok, "42").new_id == "42"
    other = zp.update_result(ok, "43")
    assert not other.ok and other.error_type == "NO_RESULT"
    bare = {"code": "SUCCESS", "details": {}, "message": "record updated", "status": "success"}
    assert zp.update_result(bare, "7").ok and zp.update_result(bare, "7").new_id == "7"
    refused = {"code": "INVALID_DATA", "details": {"id": "9"}, "message": "the id given seems to be invalid"}
    assert zp.update_result({**refused, "status": "error"}, "9").error_type == "INVALID_DATA"
    assert zp.update_result(None, "9").error_type == "NO_RESULT"
