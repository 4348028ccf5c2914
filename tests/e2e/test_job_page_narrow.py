"""The job pages on a phone-sized screen (390 px): nothing wider than the screen but the tables,
which scroll inside their own box."""

import pytest

from records.models import CopyJob, RecordResult

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# How far the page reaches past the screen, and which of the job page's parts do.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")]
    .filter((el) => !el.closest(".table-wrap") && el.getBoundingClientRect().right > width + 1)
    .map((el) => el.tagName + (el.id ? "#" + el.id : "") + "." + el.className);
  return { scroll: document.documentElement.scrollWidth - width, wide: wide.slice(0, 5) };
}"""


def test_job_pages_fit_390px(new_page, login, live_server, make_job):
    ids = [f"5725767000000{i:06d}" for i in range(12)]  # long mono ids, the widest facts
    job = make_job(results=30, status=CopyJob.Status.PARTIAL, source_ids=ids, error_summary="x" * 200)
    RecordResult.objects.filter(job=job, source_id="S00001").update(status="skipped")
    page = login(new_page(), "alice", "alice-pass-123")
    page.set_viewport_size({"width": 390, "height": 800})
    for path in (f"/jobs/{job.code}/", "/jobs/"):
        page.goto(live_server.url + path)
        found = page.evaluate(OVERFLOW)
        assert found == {"scroll": 0, "wide": []}, (path, found)
