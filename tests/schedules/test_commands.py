"""`template schedule`, `template unschedule` and the schedules `template show` lists."""

import io
import json

import pytest
from django.core.management import call_command

from records.copy_templates import services as templates
from records.models import AuditEvent
from records.schedules.models import CopySchedule
from tests.fixtures.engine import copy_request

pytestmark = pytest.mark.django_db


def cmd(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def template(globex, owner):
    sb, profile, conn, src = globex
    request = copy_request(profile, "Accounts", [src], "clone")
    return templates.save_from_request(request=request, name="Nightly", user=owner)


def test_a_cron_schedule_is_added_and_shown_with_its_next_five_times_in_its_time_zone(template, globex):
    code, out, err = cmd(
        "template", "schedule", "Nightly", "--cron", "30 2 * * *", "--ids", globex.record_id,
        "--tz", "Asia/Tokyo", "--user", "alice",
    )  # fmt: skip
    assert code == 0, err
    schedule = CopySchedule.objects.get()
    assert (schedule.cron, schedule.time_zone, schedule.source_ids) == ("30 2 * * *", "Asia/Tokyo", [globex.record_id])
    assert f"Scheduled Nightly at 30 2 * * * (Asia/Tokyo) (schedule {schedule.pk})." in out
    assert out.count("T02:30:00+09:00") == 5

    code, out, err = cmd("template", "show", "Nightly", "--json", "--user", "alice")
    shown = json.loads(out)["schedules"]
    assert [s["records"] for s in shown] == [f"ids {globex.record_id}"]
    assert len(shown[0]["next_times"]) == 5 and all(t.endswith("T02:30:00+09:00") for t in shown[0]["next_times"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cron", "0 25 * * *"], "Invalid cron expression '0 25 * * *': five fields, minute hour day month weekday"),
        (["--cron", "0 6 * * *", "--tz", "Europe/Atlantis"], "Unknown time zone 'Europe/Atlantis'"),
        (["--every", "0"], "The interval must be at least 1 second."),
    ],
)
def test_a_bad_schedule_is_refused_with_one_clear_line_and_nothing_saved(template, args, message):
    code, out, err = cmd("template", "schedule", "Nightly", *args, "--ids", "1", "--user", "alice")
    assert code == 2
    assert err.startswith(message)
    assert not CopySchedule.objects.exists()


def test_a_filter_schedule_is_removed_by_unschedule_and_both_changes_are_audited(template):
    code, out, err = cmd(
        "template", "schedule", "Nightly", "--every", "3600", "--where", "(Industry:equals:Retail)", "--limit", "5",
        "--user", "alice",
    )  # fmt: skip
    assert code == 0, err
    assert CopySchedule.objects.get().source_limit == 5
    code, out, err = cmd("template", "unschedule", "Nightly", "--user", "alice")
    assert (code, out.strip()) == (0, "Removed 1 schedule of Nightly.")
    assert not CopySchedule.objects.exists()
    actions = list(AuditEvent.objects.filter(action__startswith="template.").values_list("action", flat=True))
    assert sorted(actions) == ["template.create", "template.schedule", "template.unschedule"]
    code, out, err = cmd("template", "unschedule", "Nightly", "--user", "alice")
    assert (code, err.strip()) == (2, "The template Nightly has no schedule you may remove.")
