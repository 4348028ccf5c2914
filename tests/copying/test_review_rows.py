"""The rows a job page lists for review are read in one query, not one per row."""

import pytest

from records.copying.review import review_rows
from records.models import RecordResult

pytestmark = pytest.mark.django_db


def test_the_rows_to_review_are_read_in_a_query_not_one_per_row(make_job, django_assert_max_num_queries):
    """Read through the job's related manager with only some columns: the job id among them (each
    row read gets its job set from it: deferred, a query a row, 50 more here)."""
    job = make_job(results=60)
    job.results.update(status=RecordResult.Status.REVIEW)
    with django_assert_max_num_queries(1):
        rows = review_rows(job)
    assert [r.source_id for r in rows] == [f"S{i:05d}" for i in range(50)]
