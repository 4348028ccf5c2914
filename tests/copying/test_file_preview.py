"""The preview's files (records/copying/preview_files.py) and the copy command's --attachments:
counts and sizes per object, the choice, the limits refused before anything is queued."""

import io
import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from records.copying import preview_file_fields
from records.copying.options import CopyOptions
from records.copying.preview import plan_copy
from records.copying.tree import Node
from records.models import CopyJob, FileResult
from tests.fixtures.engine import copy_request, preview, start_job
from tests.fixtures.sandbox import find_record

pytestmark = pytest.mark.django_db
MB = 1024 * 1024
NEUROLAX_BYTES = 1_024 + 300_000 + 20 * MB
RENAME = {"name__v": "Neurolax (copy)"}


def test_the_preview_counts_and_sizes_the_attachments_per_object(vault, settings):
    settings.FILES_PREVIEW_MAX_RECORDS = 50  # counted though left out: small previews, where set
    neurolax = find_record(vault.connector, "product__v", "Neurolax")

    plan = preview(
        vault.profile, "product__v", [neurolax], CopyJob.Mode.CLONE, connector=vault.connector, overrides=RENAME
    )

    files = plan.files
    assert (files["counted"], files["copy"], files["files"], files["bytes"]) == (True, False, 3, NEUROLAX_BYTES)
    assert [(o["object_name"], o["files"]) for o in files["objects"]] == [("product__v", 3)]
    assert not plan.refused_reason


def test_the_zoho_preview_counts_the_attachments_of_a_deep_copy(zoho):
    globex = find_record(zoho.connector, "Accounts", "Globex")

    plan = preview(
        zoho.profile,
        "Accounts",
        [globex],
        CopyJob.Mode.DEEP_COPY,
        connector=zoho.connector,
        options=CopyOptions(files=True),
    )

    accounts = next(o for o in plan.files["objects"] if o["object_name"] == "Accounts")
    assert (accounts["files"], accounts["size"]) == (3, "20.1\xa0MB")


def test_a_preview_that_leaves_files_out_spends_no_call_on_them(zoho):
    globex = find_record(zoho.connector, "Accounts", "Globex")

    plan = preview(zoho.profile, "Accounts", [globex], CopyJob.Mode.DEEP_COPY, connector=zoho.connector)

    assert plan.files["counted"] is False and plan.files["records"] > 0
    assert not [e for e in zoho.sandbox.log("zoho") if "/Attachments" in e.path]


def _photos(conn, contact_ids):
    """(count, bytes) of the source contacts' Photo_File files, as a record GET holds them."""
    sizes = [
        size
        for cid in contact_ids
        for size in conn.file_field_sizes(conn.get("Contacts", cid).fields.get("Photo_File"))
    ]
    return len(sizes), sum(sizes)


def test_the_zoho_preview_counts_the_file_fields_beside_the_attachments(zoho):
    globex = find_record(zoho.connector, "Accounts", "Globex")
    request = copy_request(zoho.profile, "Accounts", [globex], CopyJob.Mode.DEEP_COPY, options=CopyOptions(files=True))
    plan, trees = plan_copy(request=request, connector=zoho.connector)

    contacts = [n.source_id for tree in trees.values() for n in tree if n.object_name == "Contacts"]
    count, size = _photos(zoho.connector, contacts)
    assert count > 0  # the demo has photos on some of Globex's contacts
    entry = next(o for o in plan.files["objects"] if o["object_name"] == "Contacts")
    assert (entry["field_files"], entry["field_bytes"], entry["unsized"]) == (count, size, 0)
    assert (plan.files["field_files"], plan.files["files"]) == (count, 3)
    assert plan.files["bytes"] == 52_000 + 4_096 + 20 * MB + size  # the job's total counts both


def test_a_record_read_whole_for_the_plan_costs_no_call_for_its_file_fields(zoho):
    conn = zoho.connector
    read = (conn.get("Contacts", r.id) for r in conn.search("Contacts", "Contact").records)
    contact = next(r for r in read if r.fields.get("Photo_File"))
    node = Node("Contacts", contact.id, 0, fields=contact.fields)
    before = len(zoho.sandbox.log("zoho"))

    files = preview_file_fields.record_files(zoho.connector, node, ["Photo_File"])

    assert len(zoho.sandbox.log("zoho")) == before
    assert [f.size for f in files] == zoho.connector.file_field_sizes(node.fields["Photo_File"]) != [None]


def test_the_copy_command_preview_shows_the_file_fields(zoho):
    globex = find_record(zoho.connector, "Accounts", "Globex")

    code, out, err = _copy_command(zoho.profile.name, "Accounts", globex, "--deep", "--preview", "--attachments")

    assert code == 0, err
    assert "Attachments (copied): 3 files, 20.1\xa0MB." in out
    assert re.search(r"File fields \(copied\): \d+ files?, [\d.]+\xa0KB\.", out)
    assert re.search(r"^  Contacts: \d+ files?, ", out, re.M)


def test_a_file_over_the_limit_is_refused_before_anything_is_queued(vault, owner, settings):
    settings.FILES_MAX_FILE_BYTES = 10 * MB
    neurolax = find_record(vault.connector, "product__v", "Neurolax")
    options = CopyOptions(files=True)

    with pytest.raises(ValidationError, match="dossier.zip .* is larger than one file may be"):
        start_job(
            vault.profile,
            owner,
            "product__v",
            [neurolax],
            CopyJob.Mode.CLONE,
            connector=vault.connector,
            overrides=RENAME,
            options=options,
        )

    assert not CopyJob.objects.exists()


def test_the_same_file_left_out_is_not_refused(vault, owner, settings):
    settings.FILES_MAX_FILE_BYTES = 10 * MB
    neurolax = find_record(vault.connector, "product__v", "Neurolax")

    plan = preview(
        vault.profile, "product__v", [neurolax], CopyJob.Mode.CLONE, connector=vault.connector, overrides=RENAME
    )

    assert not plan.refused_reason


def test_a_job_over_the_total_limit_is_refused(vault, settings):
    settings.FILES_MAX_JOB_BYTES = 1 * MB
    neurolax = find_record(vault.connector, "product__v", "Neurolax")

    plan = preview(
        vault.profile,
        "product__v",
        [neurolax],
        CopyJob.Mode.CLONE,
        connector=vault.connector,
        overrides=RENAME,
        options=CopyOptions(files=True),
    )

    assert "more than one copy may carry" in plan.refused_reason


def test_a_profile_that_forbids_files_refuses_a_copy_with_them(vault):
    vault.profile.files_forbidden = True
    vault.profile.save()
    neurolax = find_record(vault.connector, "product__v", "Neurolax")

    plan = preview(
        vault.profile,
        "product__v",
        [neurolax],
        CopyJob.Mode.CLONE,
        connector=vault.connector,
        overrides=RENAME,
        options=CopyOptions(files=True),
    )

    assert "does not accept files" in plan.refused_reason


def _copy_command(*args):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as ended:
        call_command("copy", *args, stdout=out, stderr=err)
    return ended.value.code, out.getvalue(), err.getvalue()


def test_the_copy_command_preview_shows_the_attachments_counts_and_sizes(vault):
    neurolax = find_record(vault.connector, "product__v", "Neurolax")

    code, out, err = _copy_command(
        vault.profile.name, "product__v", neurolax, "--set", "name__v=N2", "--preview", "--attachments"
    )

    assert code == 0, err
    assert "Attachments (copied): 3 files, 20.3\xa0MB." in out
    assert not CopyJob.objects.exists()


def test_the_copy_command_copies_attachments_only_with_the_flag(vault):
    cardiostat = find_record(vault.connector, "product__v", "Cardiostat")
    runs = {}
    for flag, name in (([], "C-without"), (["--attachments"], "C-with")):
        code, out, err = _copy_command(
            vault.profile.name, "product__v", cardiostat, "--set", f"name__v={name}", "--sync", "--json", *flag
        )
        assert code == 0, err
        runs[name] = CopyJob.objects.get(pk=json.loads(out)["id"])

    def files_of(job):
        return sorted(a.name for a in vault.connector.attachments("product__v", job.results.get().new_id))

    assert files_of(runs["C-without"]) == [] and not FileResult.objects.filter(job=runs["C-without"]).exists()
    assert files_of(runs["C-with"]) == ["empty.txt", "leaflet.pdf"]
