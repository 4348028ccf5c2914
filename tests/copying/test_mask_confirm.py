"""The `copy` command's confirmation of masking on a copy into another profile, over HTTP against
the two sandboxes: --preview lists the suggestions not yet taken; --sync (and queueing) is refused
naming the fields, before anything is queued, until --mask rules (=keep included) or
--mask-suggested cover them. The rule is the preview page's (copying/mask_choices.py)."""

import io
import json

import pytest
from django.core.management import call_command

from records.models import CopyJob
from sandbox import demo
from tests.fixtures.sandbox import find_record

CONTACT = "product_contact__c"
SUGGESTED = {
    "name__v": "name",
    "email__c": "email",
    "phone__c": "phone",
    "street__c": "address",
    "city__c": "address",
    "birth_date__c": "date",
}


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command(*args, stdout=out, stderr=err)
    return exc.value.code, out.getvalue(), err.getvalue()


def deep_copy_across(cross, *flags):
    source, target = cross
    src = find_record(source.connector, "product__v", demo.CONTACT_PRODUCT)
    return run("copy", source.profile.name, "product__v", src, "--deep", "--to", target.profile.name, *flags)


def target_contacts(cross):
    return cross.target.sandbox.vault.state.records[CONTACT]


@pytest.mark.django_db
def test_the_preview_lists_the_suggestions_not_yet_confirmed_as_their_mask_flags(cross_vault, owner):
    code, out, err = deep_copy_across(cross_vault, "--preview")
    assert code == 0, err
    for field, rule in SUGGESTED.items():
        assert f"Suggested, not confirmed: --mask {CONTACT}:{field}={rule}" in out
    assert "role__c" not in out.split("Suggested", 1)[1]
    assert "Note: Confirm the masking first" in out and "--mask-suggested" in out
    assert not CopyJob.objects.exists()

    code, out, err = deep_copy_across(cross_vault, "--preview", "--json")
    shown = json.loads(out)
    assert {(s["field"], s["rule"]) for s in shown["mask_unconfirmed"]} == set(SUGGESTED.items())
    assert "Confirm the masking first" in shown["mask_refusal"]

    code, out, err = deep_copy_across(cross_vault, "--preview", "--mask-suggested")
    assert code == 0, err
    assert "Suggested, not confirmed" not in out and "Confirm the masking first" not in out
    assert f"Mask {CONTACT}.email__c (email): 3 value(s)" in out


@pytest.mark.django_db
def test_a_copy_into_another_profile_is_refused_naming_the_suggestions_left_and_nothing_is_queued(cross_vault, owner):
    code, _, err = deep_copy_across(cross_vault, "--sync")
    assert code == 2
    assert "Confirm the masking first" in err and "Target Vault" in err
    assert f"{CONTACT}: name__v (Contact Name): name, email__c (Email): email" in err
    assert "--mask-suggested" in err

    code, _, err = deep_copy_across(cross_vault, "--sync", "--mask", f"{CONTACT}:email__c=keep")
    assert code == 2 and "phone__c (Phone): phone" in err and "email__c" not in err  # only those left
    assert not CopyJob.objects.exists()
    assert not target_contacts(cross_vault)


@pytest.mark.django_db
def test_explicit_rules_keep_included_confirm_every_suggestion_and_the_copy_runs(cross_vault, owner):
    masks = [f"{CONTACT}:{f}={'keep' if f == 'email__c' else r}" for f, r in SUGGESTED.items()]
    code, _, err = deep_copy_across(cross_vault, "--sync", *(a for m in masks for a in ("--mask", m)))
    assert code == 0, err
    copies = sorted(target_contacts(cross_vault).values(), key=lambda c: c["email__c"])
    sources = sorted(cross_vault.source.sandbox.vault.state.records[CONTACT].values(), key=lambda c: c["email__c"])
    assert [c["email__c"] for c in copies] == [s["email__c"] for s in sources]  # keep: as it is
    assert not {c["phone__c"] for c in copies} & {s["phone__c"] for s in sources}


@pytest.mark.django_db
def test_within_one_profile_nothing_has_to_be_confirmed(vault, owner):
    src = find_record(vault.connector, "product__v", demo.CONTACT_PRODUCT)
    named = ("--set", "name__v={name__v} (copy)")
    code, out, err = run("copy", vault.profile.name, "product__v", src, "--deep", *named, "--preview")
    assert code == 0, err
    assert "Suggested, not confirmed: --mask product_contact__c:email__c=email" in out  # offered
    assert "Confirm the masking first" not in out


@pytest.mark.django_db
def test_a_templates_run_into_another_profile_is_refused_too_until_mask_suggested(cross_vault, owner):
    from records.copy_templates import services
    from records.copying.options import CopyOptions
    from records.copying.request import CopyRequest

    source, target = cross_vault
    src = find_record(source.connector, "product__v", demo.CONTACT_PRODUCT)
    request = CopyRequest(
        profile=source.profile,
        target=target.profile,
        object_name="product__v",
        source_ids=(src,),
        mode="deep_copy",
        options=CopyOptions(existing="create"),
    )
    services.save_from_request(request=request, name="Contacts across", user=owner)
    args = ("copy", "--template", "Contacts across", src, "--user", owner.username)
    code, _, err = run(*args, "--sync")
    assert code == 2 and "email__c (Email): email" in err
    assert not CopyJob.objects.exists()
    code, _, err = run(*args, "--mask-suggested", "--sync")
    assert code == 0, err
    assert len(target_contacts(cross_vault)) == len(demo.CONTACTS)
