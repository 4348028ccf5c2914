"""A re-run with `update` (MemoryConnector as the target org): only the fields whose values differ
are sent, by id, what they held kept on the row before the write; a record already as the source
is "no changes"; a lost answer sends the same update again and keeps the first `previous`."""

import pytest

from records.connectors.errors import OutcomeUnknown
from records.copying import lifecycle
from records.copying.run_context import RunContext
from records.copying.update_pass import NO_CHANGES, UpdatePass
from records.models import ConnectionProfile, CopyJob, RecordResult
from tests.fixtures.engine import MemoryConnector

pytestmark = pytest.mark.django_db
A, S = RecordResult.Action, RecordResult.Status


class LosingConnector(MemoryConnector):
    """The target org, whose next `lose` update answers are lost after being applied."""

    lose = 0

    def update(self, object_name, rows):
        out = super().update(object_name, rows)
        if self.lose:
            self.lose -= 1
            raise OutcomeUnknown("connection dropped", error_type="OutcomeUnknown")
        return out


def build(node, fields, id_map, new_parent, later):
    """What the cross copy would insert: the fields the target has, the parent re-pointed."""
    names = {f.name for f in fields if f.editable}
    payload = {k: v for k, v in node.fields.items() if k in names and k != node.parent_field}
    if node.parent_field and new_parent:
        payload[node.parent_field] = {"id": new_parent}
    return payload, ""


@pytest.fixture
def target():
    return LosingConnector()


def update_job(owner, target, records):
    """A cross job whose rows found `records` [(source fields, target id, parent source id)] in the target."""
    make = {"system": "zoho", "base_url": "https://www.zohoapis.eu", "username": "x", "owner": owner}
    job = CopyJob.objects.create(
        profile=ConnectionProfile.objects.create(name="Source", **make),
        target_profile=ConnectionProfile.objects.create(name="Target", **make),
        object_name="Accounts",
        mode=CopyJob.Mode.DEEP_COPY,
        requested_by=owner,
    )
    rows = []
    for i, (object_name, fields, new_id, parent) in enumerate(records):
        snapshot = {"fields": fields, "parent_field": "Account_Name" if parent else ""}
        rows.append(
            RecordResult.objects.create(
                job=job,
                object_name=object_name,
                source_id=f"s{i}",
                new_id=new_id,
                depth=1 if parent else 0,
                parent_source_id=parent,
                action=A.UPDATE,
                source_snapshot=snapshot,
            )
        )
    job.state = {"trees": {"s0": [r.pk for r in rows]}}
    job.save()
    fence = lifecycle.claim(job_id=job.pk, worker_id="test")
    return RunContext.for_job(job, target, fence), job


def test_only_differing_fields_sent_and_previous_kept(owner, target):
    acme = target.add("Accounts", Account_Name="Acme", Phone="1", Employees=10)
    c0 = target.add("Contacts", Last_Name="C0", Account_Name={"id": acme})
    context, job = update_job(
        owner,
        target,
        [
            ("Accounts", {"Account_Name": "Acme", "Phone": "2", "Employees": 10.0}, acme, ""),
            ("Contacts", {"Last_Name": "C0", "Account_Name": {"id": "s0"}}, c0, "s0"),
        ],
    )
    target.calls.clear()
    UpdatePass(context, build).run("s0")
    assert target.calls == [("update", "Accounts", 1)]  # the contact holds the source's values already
    assert target.data["Accounts"][acme]["Phone"] == "2"
    account, contact = job.results.order_by("id")
    assert (account.status, account.values, account.previous) == (S.SUCCEEDED, {"Phone": "2"}, {"Phone": "1"})
    assert (contact.status, contact.previous, contact.error_message) == (S.SUCCEEDED, {}, NO_CHANGES)
    assert account.new_id == acme and account.action == A.UPDATE


def test_lost_answer_sends_the_same_update_and_keeps_the_first_previous(owner, target):
    acme = target.add("Accounts", Account_Name="Acme", Phone="1")
    context, job = update_job(owner, target, [("Accounts", {"Account_Name": "Acme", "Phone": "2"}, acme, "")])
    target.lose = 1
    target.calls.clear()
    UpdatePass(context, build).run("s0")
    assert target.calls == [("update", "Accounts", 1), ("update", "Accounts", 1)]
    row = job.results.get()
    assert (row.status, row.previous, row.values, row.attempts) == (S.SUCCEEDED, {"Phone": "1"}, {"Phone": "2"}, 2)


def test_resumed_pass_sends_what_the_first_attempt_stored(owner, target):
    """A worker died after the update was applied: the record holds the new value now, and the
    resumed pass still sends the stored values and keeps the stored `previous`."""
    acme = target.add("Accounts", Account_Name="Acme", Phone="2")  # the update landed already
    context, job = update_job(owner, target, [("Accounts", {"Account_Name": "Acme", "Phone": "2"}, acme, "")])
    job.results.update(status=S.SENDING, previous={"Phone": "1"}, values={"Phone": "2"}, attempts=1)
    UpdatePass(context, build).run("s0")
    row = job.results.get()
    assert (row.status, row.previous, row.values) == (S.SUCCEEDED, {"Phone": "1"}, {"Phone": "2"})


def test_record_gone_from_the_target_fails_its_row(owner, target):
    context, job = update_job(owner, target, [("Accounts", {"Account_Name": "Acme"}, "4040404", "")])
    UpdatePass(context, build).run("s0")
    row = job.results.get()
    assert row.status == S.FAILED and row.error_type == "NOT_FOUND" and target.calls == []


def test_the_users_overrides_apply_to_the_top_record_as_for_a_create(owner, target):
    """The first copy was renamed by an override; a re-run with the same override changes only Phone."""
    acme = target.add("Accounts", Account_Name="Acme (copy)", Phone="1", Copy_Key="rc-first")
    context, job = update_job(owner, target, [("Accounts", {"Account_Name": "Acme", "Phone": "2"}, acme, "")])
    context.job.overrides = {"Account_Name": "{Account_Name} (copy)"}  # as the job was asked
    UpdatePass(context, build).run("s0")
    row = job.results.get()
    assert (row.status, row.values, row.previous) == (S.SUCCEEDED, {"Phone": "2"}, {"Phone": "1"})
    assert target.data["Accounts"][acme]["Copy_Key"] == "rc-first"  # its own key stays
