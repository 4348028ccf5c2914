"""Bad input for a copy into another profile is refused before anything is queued, with a clear
message, by the services and by the `copy` command (exit 2): a target of another system, the
source itself as the target, a target the user may not use, a --match field the target lacks or
that is not unique there, a choice only a copy into another profile reads (--existing, --match,
--unmatched, --map-user) without a target."""

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from records.copying.job_create import copy_job_create
from records.copying.options import CopyOptions
from records.copying.request import CopyRequest
from records.copying.stored_plans import plan_request
from records.models import CopyJob
from tests.fixtures.sandbox import find_record


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command(*args, stdout=out, stderr=err)
    return exc.value.code, out.getvalue(), err.getvalue()


def request_for(source, target, record_id, **options):
    return CopyRequest(
        profile=source.profile,
        target=target.profile if target else None,
        object_name="Accounts",
        source_ids=(record_id,),
        mode="clone",
        options=CopyOptions(existing="create", **options),
    )


@pytest.mark.django_db
def test_a_target_of_another_system_is_refused(cross_zoho, vault_profile, owner):
    source, _ = cross_zoho
    src = find_record(source.connector, "Accounts", "Globex")
    request = CopyRequest(
        profile=source.profile, target=vault_profile, object_name="Accounts", source_ids=(src,), mode="clone"
    )
    with pytest.raises(ValidationError, match="same system"):
        copy_job_create(request=request, user=owner, enqueue=False, connector=source.connector)
    code, _, err = run("copy", source.profile.name, "Accounts", src, "--to", vault_profile.name, "--preview")
    assert code == 2 and "same system" in err
    assert not CopyJob.objects.exists()


@pytest.mark.django_db
def test_the_services_refuse_the_source_as_its_own_target(zoho, owner):
    request = CopyRequest(
        profile=zoho.profile,
        target=zoho.profile,
        object_name="Accounts",
        source_ids=(find_record(zoho.connector, "Accounts", "Globex"),),
        mode="clone",
    )
    with pytest.raises(ValidationError, match="leave out"):
        copy_job_create(request=request, user=owner, enqueue=False, connector=zoho.connector)
    with pytest.raises(ValidationError, match="leave out"):
        plan_request(request=request, user=owner)
    assert not CopyJob.objects.exists()


@pytest.mark.django_db
def test_the_source_as_its_own_target_is_refused(zoho, owner):
    src = find_record(zoho.connector, "Accounts", "Globex")
    code, _, err = run("copy", zoho.profile.name, "Accounts", src, "--to", zoho.profile.name, "--sync")
    assert code == 2 and "leave out --to" in err
    assert not CopyJob.objects.exists()


@pytest.mark.django_db
def test_a_user_who_may_use_only_the_source_is_refused(cross_zoho, owner, other_user):
    source, target = cross_zoho
    source.profile.shared_with_users.add(other_user)
    request = request_for(source, target, find_record(source.connector, "Accounts", "Globex"))
    with pytest.raises(ValidationError, match="Target Zoho"):
        copy_job_create(request=request, user=other_user, enqueue=False, connector=source.connector)
    with pytest.raises(ValidationError, match="Target Zoho"):
        plan_request(request=request, user=other_user)
    assert not CopyJob.objects.exists()


@pytest.mark.django_db
def test_the_command_refuses_a_user_who_may_use_only_the_source(cross_zoho, owner, other_user):
    source, target = cross_zoho
    source.profile.shared_with_users.add(other_user)
    src = find_record(source.connector, "Accounts", "Globex")
    args = ("copy", source.profile.name, "Accounts", src, "--to", target.profile.name, "--user", other_user.username)
    code, _, err = run(*args, "--sync")
    assert code == 2 and "Target Zoho" in err and "\n" not in err.strip()
    code, _, err = run(*args, "--preview")
    assert code == 2 and "Target Zoho" in err
    assert not CopyJob.objects.exists()


@pytest.mark.django_db
def test_a_match_field_the_target_lacks_or_that_is_not_unique_is_refused(cross_zoho, owner):
    source, target = cross_zoho
    src = find_record(source.connector, "Accounts", "Initech")
    for match, words in (({"Accounts": "No_Such_Field"}, "has no field"), ({"Accounts": "Phone"}, "not unique")):
        with pytest.raises(ValidationError, match=words):
            copy_job_create(
                request=request_for(source, target, src, match=match),
                user=owner,
                enqueue=False,
                connector=source.connector,
            )
    code, _, err = run(
        "copy", source.profile.name, "Accounts", src, "--to", target.profile.name, "--match", "Accounts:Phone"
    )
    assert code == 2 and "not unique" in err


@pytest.mark.django_db
def test_copy_command_copies_into_the_target_and_prints_it(cross_zoho, owner):
    source, target = cross_zoho
    src = find_record(source.connector, "Accounts", "Initech")
    code, out, err = run(
        "copy",
        source.profile.name,
        "Accounts",
        src,
        "--to",
        target.profile.name,
        "--existing",
        "create",
        "--mask-suggested",  # the account's phone looks personal: confirmed (see test_mask_confirm.py)
        "--sync",
        "--json",
    )
    assert code == 0, err
    job = json.loads(out)
    assert job["target"] == "Target Zoho" and job["status"] == "succeeded"
    assert [r["action"] for r in job["results"]] == ["created"]
    assert job["results"][0]["new_id"] in target.sandbox.zoho.state.records["Accounts"]


@pytest.mark.django_db
def test_copy_preview_into_another_profile_says_what_was_matched_and_queues_nothing(cross_zoho, owner):
    source, target = cross_zoho
    src = find_record(source.connector, "Accounts", "Initech")
    acme = find_record(source.connector, "Accounts", "Acme Corp")
    source.connector.update("Accounts", [{"id": src, "Parent_Account": {"id": acme}}])
    code, out, err = run(
        "copy", source.profile.name, "Accounts", src, "--to", target.profile.name, "--deep", "--preview"
    )
    assert code == 0, err
    assert "References to Accounts: 1 of 1 matched in the target by Account_Name." in out
    assert "Copied into Target Zoho" in out
    assert not CopyJob.objects.exists()


@pytest.mark.django_db
def test_a_stored_plan_is_keyed_by_its_target_so_a_moved_target_reads_it_again(cross_zoho, owner):
    from records.copying.stored_plans import plan_key

    source, target = cross_zoho
    request = request_for(source, target, find_record(source.connector, "Accounts", "Globex"))
    before = plan_key(request=request)
    assert before != plan_key(request=request_for(source, None, request.source_ids[0]))
    target.profile.base_url = "https://other.example"
    assert plan_key(request=request) != before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "flags",
    [
        ["--existing", "skip"],
        ["--match", "Accounts:Account_Name"],
        ["--unmatched", "blank"],
        ["--map-user", "amelia@example.com=amelia@example.com"],
    ],
)
def test_a_choice_for_another_profile_without_to_is_refused_by_the_command(zoho, owner, flags):
    src = find_record(zoho.connector, "Accounts", "Globex")
    before = {k: set(v) for k, v in zoho.sandbox.zoho.state.records.items()}
    for run_flag in ("--preview", "--sync"):
        code, _, err = run("copy", zoho.profile.name, "Accounts", src, *flags, run_flag)
        assert code == 2, err
        assert f"{flags[0]}: only a copy into another profile takes this choice" in err and "--to" in err
    assert not CopyJob.objects.exists()
    assert {k: set(v) for k, v in zoho.sandbox.zoho.state.records.items()} == before


@pytest.mark.django_db
def test_a_choice_for_another_profile_without_a_target_is_refused_by_the_services(zoho, owner):
    from records.copying.preview import copy_preview

    src = find_record(zoho.connector, "Accounts", "Globex")
    request = CopyRequest(
        profile=zoho.profile,
        object_name="Accounts",
        source_ids=(src,),
        mode="clone",
        options=CopyOptions(existing="skip", user_map={"a@example.com": "@api"}),
    )
    words = "--existing, --map-user: only a copy into another profile takes these choices"
    with pytest.raises(ValidationError, match=words):
        copy_preview(request=request, connector=zoho.connector)
    with pytest.raises(ValidationError, match=words):
        plan_request(request=request, user=owner)
    with pytest.raises(ValidationError, match=words):
        copy_job_create(request=request, user=owner, enqueue=False, connector=zoho.connector)
    assert not CopyJob.objects.exists()
