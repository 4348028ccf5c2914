"""A job's results as a CSV file, streamed: one column a result field, formulas neutralised."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from django.views.decorators.http import require_GET

from records.lib.signed_in import SignedInRequest
from records.models import RecordResult
from records.web.csv_cells import neutralise
from records.web.results_table import values_text
from records.web.views.jobs import _get_job_for_user

CSV_COLUMNS = [
    ("object", "object_name"),
    ("source_id", "source_id"),
    ("new_id", "new_id"),
    ("parent_source_id", "parent_source_id"),
    ("depth", "depth"),
    ("outcome", "status"),
    ("error_type", "error_type"),
    ("error_message", "error_message"),
    ("link", "link"),
    # The record's display name as read for the plan (the job page shows it); after the columns
    # a sheet may read by position, before the free-text values.
    ("name", "source_name"),
    ("values", "values"),
]
VALUES_COLUMN = [f for _, f in CSV_COLUMNS].index("values")
# Excel reads a CSV without a byte-order mark in the machine's code page: "Ünïcödé" turns to mojibake.
BOM = "\ufeff"
# Rows read at a time, by keyset over the (job, id) index: one plain query a page, where a
# server-side cursor (iterator() on PostgreSQL) cost a DECLARE, the FETCHes and a CLOSE, each a
# round trip waiting for a CPU on a busy machine. Memory stays flat whatever the job's size.
READ_ROWS = 2000
# Lines sent as one piece: a piece a row made gunicorn write to the socket once per row.
CHUNK_ROWS = 500


@require_GET
def job_results_csv(request: SignedInRequest, code: uuid.UUID) -> StreamingHttpResponse:
    # Only what the file names: not the job's JSON columns, nor its profile (whose credentials
    # would be decrypted on load).
    job = _get_job_for_user(request, code, only=("id", "code"), related=())
    response = StreamingHttpResponse(_lines(_rows(job.pk)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="copy-job-{job.code}.csv"'
    return response


def _rows(job_id: int) -> Iterator[tuple[object, ...]]:
    """The job's results in id order, CSV_COLUMNS' fields, READ_ROWS a query."""
    fields = [f for _, f in CSV_COLUMNS]
    last = 0
    while True:
        page = list(
            RecordResult.objects.filter(job_id=job_id, id__gt=last)
            .order_by("id")
            .values_list("id", *fields)[:READ_ROWS]
        )
        yield from (row[1:] for row in page)
        if len(page) < READ_ROWS:
            return
        last = page[-1][0]


def _lines(rows: Iterable[tuple[object, ...]]) -> Iterator[str]:
    """The file in pieces of CHUNK_ROWS lines, the byte-order mark and the header first."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write(BOM)
    writer.writerow([h for h, _ in CSV_COLUMNS])
    for n, row in enumerate(rows, start=1):
        writer.writerow([neutralise(values_text(v) if i == VALUES_COLUMN else v) for i, v in enumerate(row)])  # type: ignore[arg-type]
        if n % CHUNK_ROWS == 0:
            yield _taken(out)
    yield _taken(out)


def _taken(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text
