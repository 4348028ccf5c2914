"""Every choice at once, on each system, against the sandbox over HTTP. One combination per system
(leave out a branch, set and clear on the top and on a child object, templates with every
placeholder and braces, make unique with a clash, the lineage stamp, the automation flags), written
as the CLI's items: through the services with a real RQ worker process, then undone; and the same
items through the `copy` command in one run. tests/e2e/test_choices.py has it in the browser."""

import io
import json
from dataclasses import dataclass, field

import pytest
from django.core.management import call_command
from django.utils import timezone

from records.connectors import connector_for
from records.connectors.errors import NotFound
from records.copying.job_actions import copy_job_undo
from records.copying.job_create import copy_job_create
from records.copying.options import lineage_text, parse_cli
from records.copying.preview import copy_preview
from records.copying.tree import read_tree
from records.models import CopyJob
from tests.fixtures.engine import copy_request, kill_worker, start_worker

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@dataclass
class Combo:
    """One system's combination as the CLI's repeatable options (the one rule: options.parse_cli)."""

    top: str
    source: str
    set_values: list[str]
    clear: list[str]
    exclude: list[str]
    unique: list[str]
    lineage: list[str]
    flags: dict[str, bool] = field(default_factory=dict)

    def build(self, conn):
        return parse_cli(
            top_object=self.top,
            describe=conn.describe,
            set_values=self.set_values,
            clear=self.clear,
            exclude=self.exclude,
            unique=self.unique,
            lineage=self.lineage,
            **self.flags,
        )

    def cli_args(self):
        args = []
        for flag, items in (
            ("--set", self.set_values),
            ("--clear", self.clear),
            ("--exclude", self.exclude),
            ("--unique", self.unique),
            ("--lineage", self.lineage),
        ):
            for item in items:
                args += [flag, item]
        return args + ["--" + name.replace("_", "-") for name, on in self.flags.items() if on]


ZOHO = Combo(
    top="Accounts",
    source="Globex",
    set_values=["Account_Name={Account_Name} {today} #{job} {{c}}", "Contacts:Last_Name={Last_Name} (all)"],
    clear=["Website", "Contacts:First_Name"],
    exclude=["Deals"],
    unique=["Account_Number"],  # the copy keeps Globex's number: a clash, made unique with " (2)"
    lineage=["Contacts:Description"],
    flags={"skip_cadences": True, "run_workflows": True},
)
VAULT = Combo(
    top="product__v",
    source="Cardiostat",
    # A product of the rendered name is created first: the clash that make unique gets past.
    set_values=["name__v={name__v} (copy {today})", "formulation__c:strength__c={strength__c} j{job} {{lot}}"],
    clear=["launch_date__c", "formulation__c:dosage_form__c"],
    exclude=["packaging__c"],
    unique=["name__v"],
    lineage=["product__v:description__c"],
    flags={"migration_mode": True, "no_triggers": True},
)


def _source(conn, combo):
    found = next(r for r in conn.search(combo.top, combo.source).records if r.name == combo.source)
    return conn.get(combo.top, found.id)  # every field (a search gives the name)


def _clash(conn, combo, source):
    """Zoho: none needed (the copied Account_Number clashes). Vault: the rendered name is taken."""
    if combo is VAULT:
        name = f"{combo.source} (copy {timezone.localdate().isoformat()})"
        status = source.fields["status__v"]
        assert all(r.ok for r in conn.create("product__v", [{"name__v": name, "status__v": status}]))


def _check_zoho(sb, conn, job, source):
    day = timezone.localdate(job.created).isoformat()
    top = job.results.get(depth=0)
    copy = conn.get("Accounts", top.new_id).fields
    assert copy["Account_Name"] == f"Globex {day} #{job.pk} {{c}}"
    assert source.fields["Website"] and not copy.get("Website")
    assert copy["Account_Number"] == f"{source.fields['Account_Number']} (2)"
    assert top.values["_unique_tries"] == [copy["Account_Number"]]
    objects = set(job.results.values_list("object_name", flat=True))
    assert "Deals" not in objects and "Contacts" in objects
    contacts = job.results.filter(object_name="Contacts")
    assert contacts.count() == 3
    for row in contacts:
        original = conn.get("Contacts", row.source_id).fields
        copied = conn.get("Contacts", row.new_id).fields
        assert original["First_Name"] and not copied.get("First_Name")
        assert copied["Last_Name"] == f"{original['Last_Name']} (all)"
        assert copied["Description"] == lineage_text(row.source_id, job.pk)
    assert not [n for n in read_tree(conn, "Accounts", top.new_id) if n.object_name == "Deals"]
    actions = [a for a in sb.zoho.state.actions if a["op"] in ("clone", "insert")]
    assert actions and all(a["skip_feature_execution"] == [{"name": "cadences"}] for a in actions)
    assert all(a["trigger"] is None and a["automations_ran"] for a in actions if a["op"] == "insert")


def _check_vault(sb, conn, job, source):
    day = timezone.localdate(job.created).isoformat()
    top = job.results.get(depth=0)
    copy = conn.get("product__v", top.new_id).fields
    assert copy["name__v"] == f"Cardiostat (copy {day}) (2)"
    assert source.fields["launch_date__c"] and not copy.get("launch_date__c")
    assert copy["description__c"] == lineage_text(source.id, job.pk)
    assert not job.results.filter(object_name="packaging__c").exists()
    formulations = job.results.filter(object_name="formulation__c")
    assert formulations.count() == 5
    for row in formulations:
        original = conn.get("formulation__c", row.source_id).fields
        copied = conn.get("formulation__c", row.new_id).fields
        assert original["dosage_form__c"] and not copied.get("dosage_form__c")
        assert copied["strength__c"] == f"{original['strength__c']} j{job.pk} {{lot}}"
        assert copied["product__c"] == top.new_id
    tree = read_tree(conn, "product__v", top.new_id)
    assert {n.object_name for n in tree} == {"product__v", "formulation__c"}  # no packagings copied
    modes = sb.vault.state.write_modes
    assert modes and all(m["migration_mode"] and m["no_triggers"] for m in modes)


SYSTEMS = {"zoho": (ZOHO, _check_zoho), "vault": (VAULT, _check_vault)}


def _profile(system, request):
    return request.getfixturevalue(f"{system}_profile")


def _burst(redis_url):
    worker = start_worker(redis_url, "--burst")
    try:
        worker.wait(180)
    finally:
        kill_worker(worker)


@pytest.mark.parametrize("system", ["zoho", "vault"])
def test_every_choice_at_once_through_the_services_and_a_real_worker_then_undo(
    system, fresh_sandbox, owner, redis_url, request
):
    combo, check = SYSTEMS[system]
    profile = _profile(system, request)
    conn = connector_for(profile)
    source = _source(conn, combo)
    _clash(conn, combo, source)
    top, options = combo.build(conn)
    plan = copy_preview(
        request=copy_request(profile, combo.top, [source.id], "deep_copy", overrides=top, options=options)
    )
    assert not plan.refused_reason, plan.refused_reason
    job = copy_job_create(
        request=copy_request(profile, combo.top, [source.id], "deep_copy", overrides=top, options=options), user=owner
    )
    assert job.planned_count == plan.total
    _burst(redis_url)
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    check(fresh_sandbox, conn, job, source)

    copies = list(job.results.values_list("object_name", "new_id"))
    undo = copy_job_undo(job=job, user=owner)
    _burst(redis_url)
    undo.refresh_from_db()
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    for object_name, new_id in copies:
        with pytest.raises(NotFound):
            conn.get(object_name, new_id)
    assert conn.get(combo.top, source.id).name == combo.source  # the source is untouched


@pytest.mark.parametrize("system", ["zoho", "vault"])
def test_every_choice_at_once_through_the_copy_command_in_one_run(system, fresh_sandbox, request):
    combo, check = SYSTEMS[system]
    profile = _profile(system, request)
    conn = connector_for(profile)
    source = _source(conn, combo)
    _clash(conn, combo, source)
    out, err = io.StringIO(), io.StringIO()
    args = [profile.name, combo.top, source.id, "--deep", "--sync", "--json", *combo.cli_args()]
    with pytest.raises(SystemExit) as exit_:
        call_command("copy", *args, stdout=out, stderr=err)
    assert exit_.value.code == 0, err.getvalue()
    job = CopyJob.objects.get(pk=json.loads(out.getvalue())["id"])
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    check(fresh_sandbox, conn, job, source)
