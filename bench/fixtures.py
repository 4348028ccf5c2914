"""Jobs with many results, written straight into the database (no remote calls)."""

from __future__ import annotations


def job_with_results(user, profile, n: int, *, object_name: str = "Accounts"):
    """A finished job with n results (every 10th failed), inserted with one prepared statement."""
    from django.db import connection, transaction
    from django.utils import timezone

    from records.models import CopyJob, RecordResult

    S = RecordResult.Status
    job = CopyJob.objects.create(
        profile=profile, object_name=object_name, source_ids=["1000"], mode=CopyJob.Mode.DEEP_COPY,
        requested_by=user, status=CopyJob.Status.PARTIAL, planned_count=n, started=timezone.now(),
        finished=timezone.now(),
    )
    objects = ("Accounts", "Contacts", "Deals", "Tasks", "Notes")
    now = RecordResult._meta.get_field("updated").get_db_prep_value(timezone.now(), connection)
    columns = ("job_id", "object_name", "source_id", "new_id", "parent_source_id", "depth", "status", "error_type",
               "error_message", "link", "idempotency_key", "attempts", "updated")
    rows = []
    for i in range(n):
        failed = i % 10 == 9
        rows.append((
            job.pk, objects[0] if i == 0 else objects[1 + i % 4], str(5_000_000 + i),
            "" if failed else str(9_000_000 + i), "" if i == 0 else "5000000", 0 if i == 0 else 1 + i % 2,
            S.FAILED if failed else S.SUCCEEDED, "INVALID_DATA" if failed else "",
            "=HYPERLINK(bad) value rejected" if failed else "",
            "" if failed else f"https://crm.zoho.com/crm/tab/X/{9_000_000 + i}", f"bench-{job.pk}-{i}", 1, now,
        ))
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        RecordResult._meta.db_table, ", ".join(columns), ", ".join(["%s"] * len(columns)))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    failed_count = n // 10
    CopyJob.objects.filter(pk=job.pk).update(succeeded_count=n - failed_count, failed_count=failed_count)
    job.refresh_from_db()
    return job


def plain_profile(user, name: str):
    from records.models import ConnectionProfile, System

    return ConnectionProfile.objects.create(
        name=name, system=System.ZOHO, base_url="https://www.zohoapis.com", accounts_url="https://accounts.zoho.com",
        username="1000.BENCH", secret="bench-secret", refresh_token="bench-refresh", owner=user,
    )
