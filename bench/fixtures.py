"""Jobs with many results, written straight into the database (no remote calls)."""

from __future__ import annotations


def job_with_results(user, profile, n: int, *, object_name: str = "Accounts"):
    from django.utils import timezone

    from records.copying.results import insert
    from records.models import CopyJob, RecordResult

    S = RecordResult.Status
    job = CopyJob.objects.create(
        profile=profile,
        object_name=object_name,
        source_ids=["1000"],
        mode=CopyJob.Mode.DEEP_COPY,
        requested_by=user,
        status=CopyJob.Status.PARTIAL,
        planned_count=n,
        started=timezone.now(),
        finished=timezone.now(),
    )
    objects = ("Accounts", "Contacts", "Deals", "Tasks", "Notes")
    batch = []
    ok = failed = 0
    for i in range(n):
        failed_row = i % 10 == 9
        ok += not failed_row
        failed += failed_row
        batch.append(
            RecordResult(
                job=job,
                object_name=objects[0] if i == 0 else objects[1 + i % 4],
                source_id=str(5_000_000 + i),
                new_id="" if failed_row else str(9_000_000 + i),
                parent_source_id="" if i == 0 else "5000000",
                depth=0 if i == 0 else 1 + i % 2,
                status=S.FAILED if failed_row else S.SUCCEEDED,
                error_type="INVALID_DATA" if failed_row else "",
                error_message="=HYPERLINK(bad) value rejected" if failed_row else "",
                link="" if failed_row else f"https://crm.zoho.com/crm/tab/X/{9_000_000 + i}",
                idempotency_key=f"bench-{job.pk}-{i}",
            )
        )
        if len(batch) >= 5000:
            insert(batch)
            batch = []
    insert(batch)
    CopyJob.objects.filter(pk=job.pk).update(succeeded_count=ok, failed_count=failed)
    job.refresh_from_db()
    return job


def plain_profile(user, name: str):
    from records.models import ConnectionProfile, System

    return ConnectionProfile.objects.create(
        name=name,
        system=System.ZOHO,
        base_url="https://www.zohoapis.com",
        accounts_url="https://accounts.zoho.com",
        username="1000.BENCH",
        secret="bench-secret",
        refresh_token="bench-refresh",
        owner=user,
    )
