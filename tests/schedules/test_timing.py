"""When a schedule is due (records/schedules/timing.py): cron in its time zone, intervals, and the
messages a bad cron expression or time zone gets."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from records.schedules.timing import check_cadence, due_after_run, next_due, upcoming

NOON = datetime(2026, 3, 27, 12, 0, 0, tzinfo=UTC)  # a Friday, before the clocks change in Paris


def test_a_cron_expression_is_due_in_its_time_zone_and_answered_in_utc():
    due = next_due(cron="0 6 * * 1-5", every_seconds=None, time_zone="Europe/Paris", after=NOON)
    # Monday 6:00 in Paris, after the change to summer time (UTC+2) on Sunday.
    assert due == datetime(2026, 3, 30, 4, 0, tzinfo=UTC)


def test_the_next_five_times_are_shown_in_the_schedules_time_zone():
    times = upcoming(cron="30 9 * * *", every_seconds=None, time_zone="America/New_York", start=NOON)
    assert [t.strftime("%Y-%m-%d %H:%M %Z") for t in times] == [
        "2026-03-27 09:30 EDT",  # noon UTC is 8:00 in New York: today's is still to come
        "2026-03-28 09:30 EDT",
        "2026-03-29 09:30 EDT",
        "2026-03-30 09:30 EDT",
        "2026-03-31 09:30 EDT",
    ]


def test_an_interval_counts_from_the_due_time_it_follows():
    times = upcoming(cron="", every_seconds=90, time_zone="UTC", start=NOON, count=3)
    assert [t.strftime("%H:%M:%S") for t in times] == ["12:01:30", "12:03:00", "12:04:30"]


@pytest.mark.parametrize(
    ("cron", "every", "zone", "message"),
    [
        ("61 * * * *", None, "UTC", "Invalid cron expression '61 * * * *': five fields"),
        ("* * * *", None, "UTC", "Invalid cron expression '* * * *': five fields"),
        ("every day", None, "UTC", "Invalid cron expression 'every day'"),
        ("0 6 * * *", None, "Mars/Olympus", "Unknown time zone 'Mars/Olympus'"),
        ("", None, "UTC", "Give a cron expression or an interval, one of the two."),
        ("0 6 * * *", 60, "UTC", "Give a cron expression or an interval, one of the two."),
        ("", 0, "UTC", "The interval must be at least 1 second."),
    ],
)
def test_a_bad_cadence_is_refused_with_a_clear_message(cron, every, zone, message):
    with pytest.raises(ValidationError) as refused:
        check_cadence(cron=cron, every_seconds=every, time_zone=zone)
    assert refused.value.messages[0].startswith(message)


def test_a_late_run_keeps_the_interval_grid_and_makes_up_no_missed_due_time():
    late = NOON + timedelta(seconds=7.5)  # the run due at noon starts 7.5 s late, every 2 s
    assert due_after_run(cron="", every_seconds=2, time_zone="UTC", due=NOON, now=late) == NOON + timedelta(seconds=8)
    on_time = due_after_run(cron="", every_seconds=2, time_zone="UTC", due=NOON, now=NOON - timedelta(seconds=0.1))
    assert on_time == NOON + timedelta(seconds=2)


def test_a_late_cron_run_is_followed_by_the_next_cron_time_after_now():
    late = NOON + timedelta(minutes=31)
    assert due_after_run(
        cron="*/15 * * * *", every_seconds=None, time_zone="UTC", due=NOON, now=late
    ) == NOON + timedelta(minutes=45)
