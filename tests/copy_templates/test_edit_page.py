"""A template's edit page with Django's client against the sandbox: the preview's choice widgets
(values on every level with value templates, clear, make unique, lineage), the system's options,
the cross-profile choices and who a run tells, each saved as a new version and shown back as saved;
the wizard's checks refuse bad input on the page, and nothing is saved then."""

from html.parser import HTMLParser

import pytest
from django.db import connection
from django.urls import reverse

from records.copy_templates import services
from records.copying.options import CopyOptions
from records.models import AuditEvent, CopyTemplate
from tests.fixtures.engine import copy_request

pytestmark = pytest.mark.django_db

BASE = {
    "name": "Kit",
    "description": "",
    "mode": "deep_copy",
    "object": "Deals",  # listed, its box not ticked: left out
    "source_filter": "",
    "source_limit": "",
    "target": "",
    "match": "",
    "unmatched": "",
    "existing": "",
    "map_user": "",
    "recipients": "",
    "webhook_url": "",
    "webhook_secret": "",
}
WIDGETS = {
    "ch-0-object": "Accounts",
    "ch-0-field": "Account_Name",
    "ch-0-value": "{Account_Name} ({today})",
    "ch-1-object": "Accounts",
    "ch-1-field": "Account_Number",
    "ch-1-value": "",
    "ch-1-unique": "on",
    "ch-2-object": "Accounts",
    "ch-2-field": "Employees",
    "ch-2-value": "12",
    "ch-3-object": "Contacts",
    "ch-3-field": "First_Name",
    "ch-3-clear": "on",
    "ch-4-object": "Contacts",
    "ch-4-field": "Mailing_City",
    "ch-4-value": "{Mailing_City} North",
    "lin-0-object": "Contacts",
    "lin-0-field": "Description",
    "skip_cadences": "on",
}


@pytest.fixture
def kit(globex, owner):
    _, profile, _, src = globex
    request = copy_request(
        profile,
        "Accounts",
        [src],
        "deep_copy",
        overrides={"Account_Name": "{Account_Name} (copy)"},
        options=CopyOptions(exclude=("Deals",)),
    )
    return services.save_from_request(request=request, name="Kit", user=owner)


class FormValues(HTMLParser):
    """What a browser sends of the page's form: text inputs, ticked boxes, chosen options, text
    areas; not the blank rows' <template>s."""

    def __init__(self):
        super().__init__()
        self.values, self.select, self.area, self.skip = {}, None, None, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "template":
            self.skip += 1
        if self.skip or "disabled" in a:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("checkbox", "submit"):
            self.put(a["name"], a.get("value") or "")
        elif tag == "input" and a.get("type") == "checkbox" and "checked" in a:
            self.put(a["name"], a.get("value") or "on")
        elif tag == "select":
            self.select = a["name"]
            self.values.setdefault(self.select, "")
        elif tag == "option" and self.select and "selected" in a:
            self.values[self.select] = a.get("value", "")
        elif tag == "textarea":
            self.area = a["name"]
            self.values[self.area] = ""

    def put(self, name, value):
        """A name sent more than once (the leave-out boxes) is sent as a list."""
        if name in self.values:
            old = self.values[name]
            self.values[name] = [*old, value] if isinstance(old, list) else [old, value]
        else:
            self.values[name] = value

    def handle_endtag(self, tag):
        if tag == "template":
            self.skip -= 1
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.area = None

    def handle_data(self, data):
        if self.area and not self.skip:
            self.values[self.area] += data.lstrip("\n")


def form_values(page):
    parser = FormValues()
    parser.feed(page[page.index('id="template-form"') :])
    return parser.values


def edit_url(template):
    return reverse("template_edit", args=[template.code])


def latest(template):
    return services.latest_version(CopyTemplate.objects.get(pk=template.pk))


def test_the_page_shows_the_saved_values_in_the_preview_widgets(owner_client, kit):
    page = owner_client.get(edit_url(kit)).content.decode()
    assert 'id="choice-changes"' in page and 'id="choice-lineage-rows"' in page
    assert '<option value="Account_Name" selected>' in page
    assert 'value="{Account_Name} (copy)"' in page
    assert '<option value="Contacts"' in page  # a related object, read from the related lists
    assert "choice_rows.js" in page


def test_each_widget_kind_round_trips_into_a_new_version(owner_client, kit):
    response = owner_client.post(edit_url(kit), {**BASE, **WIDGETS})
    assert response.status_code == 302, response.content.decode()
    version = latest(kit)
    assert version.number == 2
    definition = version.definition
    assert definition["overrides"] == {"Account_Name": "{Account_Name} ({today})", "Employees": 12}
    options = CopyOptions.from_dict(definition["options"])
    assert options.fields == {"Contacts": {"First_Name": None, "Mailing_City": "{Mailing_City} North"}}
    assert options.unique == {"Accounts": ("Account_Number",)}
    assert options.lineage == {"Contacts": "Description"}
    assert (options.exclude, options.skip_cadences) == (("Deals",), True)

    page = owner_client.get(edit_url(kit)).content.decode()
    assert 'value="{Account_Name} ({today})"' in page and 'value="{Mailing_City} North"' in page
    assert '<option value="Account_Number" selected>' in page and '<option value="Description" selected>' in page

    # The form as the page shows it, sent back unchanged: the same definition in the next version.
    assert owner_client.post(edit_url(kit), form_values(page))["Location"].endswith("?v1=2&v2=3")
    assert latest(kit).definition == definition


def test_cross_profile_choices_are_saved_as_the_cli_reads_them(owner_client, kit, zoho_target_profile):
    data = {
        **BASE,
        "ch-0-object": "Accounts",
        "ch-0-field": "Account_Name",
        "ch-0-value": "{Account_Name}",
        "target": str(zoho_target_profile.code),
        "match": "Accounts:Account_Number",
        "unmatched": "blank\nContacts:fail",
        "existing": "skip",
        "map_user": "Ann@Example.com=@api",
    }
    response = owner_client.post(edit_url(kit), data)
    assert response.status_code == 302, response.content.decode()
    definition = latest(kit).definition
    assert definition["target"] == str(zoho_target_profile.code)
    options = CopyOptions.from_dict(definition["options"])
    assert options.match == {"Accounts": "Account_Number"}
    assert options.unmatched == {"*": "blank", "Contacts": "fail"}
    assert (options.existing, options.user_map) == ("skip", {"ann@example.com": "@api"})
    page = owner_client.get(edit_url(kit)).content.decode()
    assert "Accounts:Account_Number" in page and "Contacts:fail" in page


def test_recipients_and_webhook_are_saved_and_the_secret_never_shown(owner_client, kit, settings):
    data = {
        **BASE,
        "recipients": "Team@Example.com, ops@example.com",
        "webhook_url": "http://127.0.0.1:9/hooks",
        "webhook_secret": "hush-hush",
    }
    assert owner_client.post(edit_url(kit), data).status_code == 302
    kit.refresh_from_db()
    assert kit.notify_emails == ["team@example.com", "ops@example.com"]
    assert (kit.webhook_url, kit.webhook_secret) == ("http://127.0.0.1:9/hooks", "hush-hush")
    with connection.cursor() as cursor:  # the column itself, not through the field (which decrypts)
        cursor.execute("SELECT webhook_secret FROM records_copytemplate WHERE id = %s", [kit.pk])
        stored = cursor.fetchone()[0]
    assert stored and "hush-hush" not in stored
    page = owner_client.get(edit_url(kit)).content.decode()
    assert "hush-hush" not in page and 'id="webhook-secret-saved"' in page
    edit = AuditEvent.objects.filter(action="template.edit").latest("pk")
    assert "hush-hush" not in str(edit.details) and "webhook_secret" in edit.details["notify"]

    # Saved again without typing the secret: it is kept.
    assert owner_client.post(edit_url(kit), {**data, "webhook_secret": ""}).status_code == 302
    kit.refresh_from_db()
    assert kit.webhook_secret == "hush-hush"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            {"mode": "clone", "ch-3-object": "Contacts", "ch-3-field": "First_Name", "ch-3-clear": "on"},
            "A clone copies only the records themselves",
        ),
        ({"ch-2-object": "Accounts", "ch-2-field": "Employees", "ch-2-value": "many"}, "Employees"),
        (
            {"ch-2-object": "Accounts", "ch-2-field": "Phone", "ch-2-value": "", "ch-2-unique": "on"},
            "only unique text fields can be made unique",
        ),
        ({"ch-2-object": "Accounts", "ch-2-field": "Phone", "ch-2-value": ""}, "give a value, or tick Clear"),
        ({"lin-0-object": "Contacts", "lin-0-field": ""}, "choose the text field to stamp on Contacts"),
        ({"ch-2-object": "Accounts", "ch-2-field": "No_Such_Field", "ch-2-value": "x"}, "No_Such_Field"),
        ({"unmatched": "Contacts:maybe"}, "--unmatched expects"),
        ({"match": "Accounts:Account_Number"}, "only a copy into another profile"),
        ({"recipients": "not-an-address"}, "not-an-address is not an e-mail address"),
        ({"webhook_url": "http://127.0.0.1:9/hooks"}, "Give the webhook a secret"),
    ],
)
def test_bad_input_is_refused_on_the_page_and_no_version_made(owner_client, kit, change, words):
    response = owner_client.post(edit_url(kit), {**BASE, **change})
    assert response.status_code == 200
    assert words in response.content.decode().replace("&#x27;", "'")
    assert latest(kit).number == 1


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://10.1.2.3/hooks", "must name a host, not an IP address"),
        ("http://hooks.example.com/hooks", "must be https:// on port 443"),
    ],
)
def test_a_private_or_plain_http_webhook_url_is_refused(owner_client, kit, url, words):
    response = owner_client.post(edit_url(kit), {**BASE, "webhook_url": url, "webhook_secret": "s"})
    assert words in response.content.decode()
    kit.refresh_from_db()
    assert (kit.webhook_url, latest(kit).number) == ("", 1)


def test_only_the_owner_edits(client, kit, other_user):
    client.force_login(other_user)
    assert client.get(edit_url(kit)).status_code == 404
    assert client.post(edit_url(kit), BASE).status_code == 404


def test_each_related_object_has_a_box_ticked_unless_left_out(owner_client, kit):
    page = owner_client.get(edit_url(kit)).content.decode()
    values = form_values(page)
    assert {"Contacts", "Deals"} <= set(values["object"])
    assert "Contacts" in values["include"] and "Deals" not in values["include"]
    assert 'name="exclude"' not in page  # no text box besides the boxes


def test_unticking_an_object_makes_a_version_leaving_it_out_and_the_diff_says_so(owner_client, kit):
    values = form_values(owner_client.get(edit_url(kit)).content.decode())
    values["include"] = [o for o in values["include"] if o != "Contacts"]
    response = owner_client.post(edit_url(kit), values, follow=True)
    options = CopyOptions.from_dict(latest(kit).definition["options"])
    assert set(options.exclude) == {"Contacts", "Deals"}
    assert "Left out: Deals → Contacts, Deals" in response.content.decode()


def test_a_saved_left_out_object_not_among_the_related_lists_is_kept_left_out(owner_client, globex, owner):
    _, profile, _, src = globex
    options = CopyOptions(exclude=("Deals", "Gone_Module"))
    request = copy_request(profile, "Accounts", [src], "deep_copy", options=options)
    template = services.save_from_request(request=request, name="Kit", user=owner)
    page = owner_client.get(edit_url(template)).content.decode()
    assert 'id="kept-out-Gone_Module"' in page and 'name="include" value="Gone_Module"' not in page
    values = form_values(page)
    values["include"] = [*values["include"], "Deals"]  # tick Deals: copied again
    assert owner_client.post(edit_url(template), values).status_code == 302
    assert CopyOptions.from_dict(latest(template).definition["options"]).exclude == ("Gone_Module",)
