"""The preview of a copy into another profile, with the Django client over two sandbox orgs and a
real worker reading the plan: "Copy into", the cross tables, the choices they offer, Confirm."""

import pytest
from django.urls import reverse

from records.models import CopyJob, CopyPlan
from sandbox import target_org
from sandbox.zoho_state import REP
from tests.copying.test_stored_plans import burst
from tests.fixtures.sandbox import find_record
from tests.fixtures.web import accept_mask_suggestions, put_draft

pytestmark = [pytest.mark.redis, pytest.mark.plans_on_worker, pytest.mark.django_db(transaction=True)]
PREVIEW = reverse("copy_preview", args=["d1"])


@pytest.fixture
def draft(cross_zoho, owner_client, redis_url):
    """Globex, owned in the source by a user the target org lacks; a deep copy within the source."""
    source = cross_zoho.source
    globex = find_record(source.connector, "Accounts", "Globex")
    source.sandbox.zoho.state.records["Accounts"][globex]["Owner"] = REP["id"]
    put_draft(owner_client, source.profile, "Accounts", [globex], overrides={"Account_Name": "Globex T"})
    return owner_client, cross_zoho


def read_preview(client):
    client.get(PREVIEW)
    burst()
    return client.get(PREVIEW).content.decode()


def user_select(page, email):
    """The users table's select of one source user."""
    start = page.index(f'aria-label="Target user for {email}"')
    return page[start : page.index("</select>", start)]


def choose_target(client, profile):
    return client.post(reverse("copy_target", args=["d1"]), {"target": str(profile.code)}, follow=True)


def test_copy_into_offers_the_profiles_of_the_same_system_and_keeps_the_choice(draft, vault_profile):
    client, cross = draft
    page = client.get(PREVIEW).content.decode()
    assert 'id="id_target"' in page and cross.target.profile.name in page
    assert vault_profile.name not in page  # another system is not offered
    choose_target(client, cross.target.profile)
    assert client.session["copy_drafts"]["d1"]["target"] == str(cross.target.profile.code)
    assert CopyPlan.objects.latest("pk").target_profile == cross.target.profile
    client.post(reverse("copy_target", args=["d1"]), {"target": ""})  # back to the same profile
    assert "target" not in client.session["copy_drafts"]["d1"]


def test_a_target_of_another_system_or_unknown_is_refused_with_a_message(draft, vault_profile):
    client, _ = draft
    page = choose_target(client, vault_profile).content.decode()
    assert "can only be copied into a profile of the same system" in page
    page = client.post(reverse("copy_target", args=["d1"]), {"target": "nonsense"}, follow=True).content.decode()
    assert "no such profile to copy into" in page
    assert "target" not in client.session["copy_drafts"]["d1"]


def test_a_target_the_user_may_not_use_is_refused(draft, other_user):
    from records.models import ConnectionProfile

    client, cross = draft
    theirs = ConnectionProfile.objects.get(pk=cross.target.profile.pk)
    theirs.owner = other_user
    theirs.save()
    page = choose_target(client, theirs).content.decode()
    assert f"You may not use the profile {theirs.name}" in page
    assert "target" not in client.session["copy_drafts"]["d1"]


def test_the_cross_plan_shows_its_tables_and_an_unmatched_user_refuses_until_mapped(draft):
    client, cross = draft
    choose_target(client, cross.target.profile)
    page = read_preview(client)
    assert 'id="cross-users"' in page and REP["email"] in page and 'id="cross-existing"' in page
    assert "This copy can't be queued" in page and "Confirm and queue" not in page
    post = {"user_email": [REP["email"]], "user-0": "@api", "existing": "skip"}
    client.post(reverse("copy_cross_choices", args=["d1"]), post)
    options = client.session["copy_drafts"]["d1"]["options"]
    assert options["user_map"] == {REP["email"].casefold(): "@api"} and options["existing"] == "skip"
    page = read_preview(client)
    assert "This copy can't be queued" not in page and "the target profile&#x27;s API user" in page
    assert "Confirm and queue the copy" in page


def test_the_users_select_lists_the_target_users_and_choosing_one_plans_with_it(draft):
    client, cross = draft
    choose_target(client, cross.target.profile)
    rep = user_select(read_preview(client), REP["email"])
    data_user = target_org.ZOHO_DATA_USER
    listed = f'<option value="{data_user["email"]}">{data_user["name"]} &lt;{data_user["email"]}&gt;</option>'
    assert listed in rep and target_org.ZOHO_API_USER["email"] in rep
    assert '<option value="@refuse" selected>' in rep and "The same e-mail" not in rep  # the rep has no match
    assert 'type="email"' not in rep  # no free e-mail box
    client.post(
        reverse("copy_cross_choices", args=["d1"]), {"user_email": [REP["email"]], "user-0": data_user["email"]}
    )
    assert client.session["copy_drafts"]["d1"]["options"]["user_map"] == {REP["email"].casefold(): data_user["email"]}
    page = read_preview(client)
    assert f'<option value="{data_user["email"]}" selected>' in user_select(page, REP["email"])
    assert f"{data_user['name']} &lt;{data_user['email']}&gt;</td><td>chosen" in page
    assert "This copy can't be queued" not in page and "Confirm and queue the copy" in page


def test_a_bad_user_choice_is_refused_with_a_message(draft):
    client, cross = draft
    choose_target(client, cross.target.profile)
    post = {"user_email": [REP["email"]], "user-0": "not-an-email"}
    page = client.post(reverse("copy_cross_choices", args=["d1"]), post, follow=True).content.decode()
    assert "--map-user expects" in page or "SOURCE_EMAIL" in page
    assert not client.session["copy_drafts"]["d1"].get("options", {}).get("user_map")


def test_confirming_a_copy_into_a_protected_target_says_it_waits_for_approval(draft):
    client, cross = draft
    cross.target.profile.protected = True
    cross.target.profile.save()
    choose_target(client, cross.target.profile)
    client.post(reverse("copy_cross_choices", args=["d1"]), {"user_email": [REP["email"]], "user-0": "@api"})
    read_preview(client)
    accept_mask_suggestions(client)  # Confirm across profiles waits for the masking's suggestions
    page = read_preview(client)
    assert "Confirm and ask for approval" in page
    plan = CopyPlan.objects.filter(status=CopyPlan.Status.READY).latest("pk")
    done = client.post(reverse("copy_confirm", args=["d1"]), {"plan": str(plan.code)}, follow=True)
    text = done.content.decode()
    assert "Waiting for approval" in text and "is queued" not in text
    assert CopyJob.objects.get().status == CopyJob.Status.AWAITING_APPROVAL


@pytest.mark.django_db
def test_the_job_page_of_a_cross_copy_names_both_profiles_and_each_rows_action(owner_client, make_job, make_profile):
    from records.models import RecordResult

    target = make_profile(name="Vault UAT")
    job = make_job(results=0, target_profile=target)
    actions = [RecordResult.Action.CREATE, RecordResult.Action.SKIP, RecordResult.Action.UPDATE]
    for n, action in enumerate(actions):
        RecordResult.objects.create(
            job=job,
            object_name="product__v",
            source_id=f"S{n}",
            new_id=f"N{n}",
            action=action,
            status=RecordResult.Status.SUCCEEDED,
            values={"name__v": "New"} if action == "update" else {},
        )
    page = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert f"from {job.profile.name} to Vault UAT" in page
    assert [w for w in ("Created", "Skipped", "Updated") if f'class="row-action">{w}<' in page] == [
        "Created",
        "Skipped",
        "Updated",
    ]
    assert "name__v = New" in page  # an update lists the fields it changed


@pytest.mark.django_db
def test_the_job_page_of_an_in_system_copy_shows_no_action(owner_client, make_job):
    job = make_job(results=3)
    assert "row-action" not in owner_client.get(reverse("job_detail", args=[job.code])).content.decode()


def test_an_unmatched_outside_reference_is_counted_with_examples_and_its_choice_kept(
    cross_zoho, owner_client, redis_url
):
    source = cross_zoho.source
    initech = find_record(source.connector, "Accounts", "Initech")
    hooli = find_record(source.connector, "Accounts", "Hooli")  # not in the target org
    source.connector.update("Accounts", [{"id": initech, "Parent_Account": {"id": hooli}}])
    put_draft(owner_client, source.profile, "Accounts", [initech])
    choose_target(owner_client, cross_zoho.target.profile)
    page = read_preview(owner_client)
    assert 'id="cross-references"' in page and hooli in page and "This copy can't be queued" in page
    assert '<option value="refuse" selected>' in page
    owner_client.post(
        reverse("copy_cross_choices", args=["d1"]), {"ref_object": "Accounts", "unmatched-Accounts": "blank"}
    )
    assert owner_client.session["copy_drafts"]["d1"]["options"]["unmatched"] == {"Accounts": "blank"}
    page = read_preview(owner_client)
    assert '<option value="blank" selected>' in page and "can't be queued" not in page


def test_a_user_choice_unknown_in_the_target_fails_the_plan_and_can_be_forgotten(draft):
    client, cross = draft
    choose_target(client, cross.target.profile)
    post = {"user_email": [REP["email"]], "user-0": "nobody@nowhere.example"}  # stale: no user of the target
    client.post(reverse("copy_cross_choices", args=["d1"]), post)
    page = read_preview(client)
    assert "The preview failed" in page and "nobody@nowhere.example" in page and 'id="reset-users"' in page
    client.post(reverse("copy_cross_choices", args=["d1"]), {"reset_users": "1"})
    assert client.session["copy_drafts"]["d1"]["options"]["user_map"] == {}
    page = read_preview(client)
    assert 'id="cross-users"' in page and "The preview failed" not in page


@pytest.fixture
def initech_under_globex(cross_zoho, owner_client, redis_url):
    """Initech, whose parent account Globex (outside the copy) is in the target org by name only."""
    source = cross_zoho.source
    initech = find_record(source.connector, "Accounts", "Initech")
    globex = find_record(source.connector, "Accounts", "Globex")
    source.connector.update("Accounts", [{"id": initech, "Parent_Account": {"id": globex}}])
    put_draft(owner_client, source.profile, "Accounts", [initech])
    choose_target(owner_client, cross_zoho.target.profile)
    return owner_client, globex


def test_the_references_table_offers_the_targets_unique_fields_as_match_keys(initech_under_globex):
    client, _ = initech_under_globex
    page = read_preview(client)
    select = page.split('name="match-Accounts"')[1].split("</select>")[0]
    assert '<option value="" selected>Account_Name (default)</option>' in select
    assert 'value="Account_Number"' in select
    assert "Copy_Key" not in select and "Industry" not in select  # the copy key, a field that isn't unique


def test_a_match_key_chosen_is_kept_and_the_plan_matches_by_it(initech_under_globex):
    client, globex = initech_under_globex
    assert "can't be queued" not in read_preview(client)  # Globex found by its name
    post = {"match_object": "Accounts", "match-Accounts": "Account_Number"}
    client.post(reverse("copy_cross_choices", args=["d1"]), post)
    assert client.session["copy_drafts"]["d1"]["options"]["match"] == {"Accounts": "Account_Number"}
    page = read_preview(client)
    # The target's Globex has another number: unmatched by that key, so refused by default.
    assert '<option value="Account_Number" selected>' in page and globex in page and "can't be queued" in page
    client.post(reverse("copy_cross_choices", args=["d1"]), {"match_object": "Accounts", "match-Accounts": ""})
    assert client.session["copy_drafts"]["d1"]["options"]["match"] == {}


@pytest.mark.parametrize(
    ("field", "words"), [("Industry", "Industry is not unique in the target"), ("Nope", "Accounts has no field Nope")]
)
def test_a_match_key_not_unique_or_missing_in_the_target_is_refused_with_the_services_words(
    initech_under_globex, field, words
):
    client, _ = initech_under_globex
    read_preview(client)
    post = {"match_object": "Accounts", "match-Accounts": field}
    page = client.post(reverse("copy_cross_choices", args=["d1"]), post, follow=True).content.decode()
    assert words in page
    assert not client.session["copy_drafts"]["d1"].get("options", {}).get("match")
