"""The batch writer over real HTTP: a run's batches keep the profile's concurrency busy."""

import threading
import time

import pytest

CREATE = r"^/api/v[\d.]+/vobjects/product__v$"


def _creates(sb) -> list:
    return [e for e in sb.log("vault") if e.method == "POST" and e.path.rstrip("/").endswith("/vobjects/product__v")]


@pytest.mark.django_db(transaction=True)  # the calls run in threads, which need rows they can see
def test_the_next_batch_is_sent_when_one_answer_is_in_not_the_whole_window(vault, owner):
    from records.models import CopyJob
    from tests.fixtures.engine import run_job, start_job

    sb, profile, conn = vault
    profile.concurrency = 2
    profile.save(update_fields=["concurrency"])
    rows = [{"name__v": f"Window Source {i:04d}", "status__v": ["active__v"]} for i in range(1001)]
    made = conn.create("product__v", rows)
    assert all(r.ok for r in made), next(r.error_message for r in made if not r.ok)
    ids = [r.new_id for r in made]  # three batches of 500 at concurrency 2
    names = {source: {"name__v": f"Window Copy {k:04d}"} for k, source in enumerate(ids)}
    job = start_job(profile, owner, "product__v", ids, "clone", row_overrides=names)
    sb.clear_log("vault")
    hold = sb.hooks("vault").hold("POST", CREATE)  # the first batch to arrive: its answer held
    done: list = []
    runner = threading.Thread(target=lambda: done.append(run_job(job)))
    runner.start()
    try:
        assert hold.wait(20)
        deadline = time.monotonic() + 15
        while len(_creates(sb)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        answered_while_held = len(_creates(sb))  # the held call is logged once answered
    finally:
        hold.release()
        runner.join(60)
    # The window's other batch was answered, and the third batch went out in its place.
    assert answered_while_held == 2
    assert done[0].status == CopyJob.Status.SUCCEEDED, done[0].error_summary
    assert done[0].results.filter(new_id="").count() == 0
    assert len(_creates(sb)) == 3  # each batch sent once


class _Recorder:
    """Stands in for the BatchWriter: notes the order answers are recorded in; while the first is
    recorded, the next call answers (`then`), as an answer does while 500 rows are written."""

    def __init__(self, events: list, then) -> None:
        self.events, self.then = events, [then]

    def finish(self, item, future) -> None:
        while self.then:
            self.then.pop()()
        self.events.append(f"record {item[0][0].source_id}")


@pytest.mark.django_db
def test_a_call_answered_while_an_answer_is_recorded_is_refilled_before_it_is_recorded(make_job, vault_profile):
    from collections import deque

    from records.copying.in_flight import InFlight
    from records.copying.reconcile import Sent
    from records.models import CopyJob, RecordResult

    job = make_job(results=5, status=CopyJob.Status.QUEUED, profile=vault_profile)
    job.results.update(status=RecordResult.Status.PENDING, attempts=0)
    rows = list(job.results.order_by("pk"))
    for row, name in zip(rows, "ABCDE", strict=True):
        row.source_id = name
    answers = {name: threading.Event() for name in "ABCDE"}
    events: list[str] = []

    def call(batch):
        assert answers[batch[0].source_id].wait(10)
        return []

    def b_answers() -> None:
        answers["B"].set()
        deadline = time.monotonic() + 10
        while not any(item[0][0].source_id == "B" and f.done() for f, item in flight._flying.items()):
            assert time.monotonic() < deadline
            time.sleep(0.01)

    queue = deque([row] for row in rows[3:])

    def refill() -> None:
        while queue and flight.free:
            batch = queue.popleft()
            events.append(f"start {batch[0].source_id}")
            flight.start((batch, call, Sent()))

    with InFlight(_Recorder(events, b_answers), 3) as flight:
        for row in rows[:3]:
            flight.start(([row], call, Sent()))
        answers["A"].set()
        done = flight.wait(refill)
        assert [item[0][0].source_id for item in done] == ["A", "B"]
        assert events == ["start D", "record A", "start E", "record B"]
        for event in answers.values():
            event.set()
        while flight.busy:
            flight.wait(refill)
    assert events[4:] and sorted(events[4:]) == ["record C", "record D", "record E"]


class _SlowRecorder:
    """Stands in for the BatchWriter: each answer takes a while to record, as 500 rows do."""

    def __init__(self) -> None:
        self.recorded: list[str] = []

    def finish(self, item, future) -> None:
        time.sleep(0.05)
        self.recorded.append(item[0][0].source_id)


@pytest.mark.django_db
def test_a_wait_records_at_most_a_window_of_answers_so_the_run_beats_between_them(make_job, vault_profile):
    """Calls that answer at once keep coming while answers are recorded: a wait still returns
    after a window's worth, so the run renews its lease, writes progress and sees a cancel."""
    from collections import deque

    from records.copying.in_flight import InFlight
    from records.copying.reconcile import Sent
    from records.models import CopyJob, RecordResult

    job = make_job(results=12, status=CopyJob.Status.QUEUED, profile=vault_profile)
    job.results.update(status=RecordResult.Status.PENDING, attempts=0)
    rows = list(job.results.order_by("pk"))
    for k, row in enumerate(rows):
        row.source_id = f"S{k:02d}"
    queue = deque([row] for row in rows[2:])
    recorder = _SlowRecorder()

    def refill() -> None:
        while queue and flight.free:
            flight.start((queue.popleft(), lambda batch: [], Sent()))

    sizes = []
    with InFlight(recorder, 2) as flight:
        for row in rows[:2]:
            flight.start(([row], lambda batch: [], Sent()))
        while flight.busy:
            sizes.append(len(flight.wait(refill)))
    assert sorted(recorder.recorded) == [r.source_id for r in rows]  # each answer recorded once
    assert max(sizes) <= 2 and len(sizes) >= 6, sizes


@pytest.mark.django_db
def test_rows_are_marked_ahead_a_window_at_most_and_pending_again_when_the_run_stops(make_job, vault_profile):
    from records.copying.in_flight import InFlight
    from records.copying.reconcile import Sent
    from records.models import CopyJob, RecordResult

    S = RecordResult.Status
    job = make_job(results=6, status=CopyJob.Status.QUEUED, profile=vault_profile)
    job.results.update(status=S.PENDING, attempts=0)
    batches = [[row] for row in job.results.order_by("pk")]
    released = threading.Event()

    def call(batch):
        assert released.wait(10)
        return []

    def stored() -> list[tuple[str, int]]:
        return list(job.results.order_by("pk").values_list("status", "attempts"))

    with pytest.raises(RuntimeError), InFlight(_SlowRecorder(), 2) as flight:
        flight.mark_ahead(batches)
        assert stored() == [(S.SENDING, 1)] * 2 + [(S.PENDING, 0)] * 4  # one window, not all
        for batch in batches[:2]:
            flight.start((batch, call, Sent()))
        assert stored() == [(S.SENDING, 1)] * 2 + [(S.PENDING, 0)] * 4  # started without a second mark
        flight.mark_ahead(batches[2:])
        flight.mark_ahead(batches[4:])  # the window ahead not started yet: nothing more
        assert stored() == [(S.SENDING, 1)] * 4 + [(S.PENDING, 0)] * 2
        released.set()
        raise RuntimeError("the run stops (a cancel, a pause) before the window ahead is sent")
    # The calls under way answered and recorded; the rows never sent are as they were.
    assert stored()[2:] == [(S.PENDING, 0)] * 4


class _FailingRecorder:
    """Stands in for the answers: recording batch "A" fails (the lease lost meanwhile, a second pause)."""

    def __init__(self) -> None:
        self.recorded: list[str] = []

    def finish(self, item, future) -> None:
        if item[0][0].source_id == "A":
            raise RuntimeError("recording fails too")
        self.recorded.append(item[0][0].source_id)


@pytest.mark.django_db
def test_when_the_run_stops_every_call_under_way_is_recorded_even_if_one_recording_fails(make_job, vault_profile):
    """The run stops with three calls out: each is waited for and recorded; one whose recording
    fails too is logged (its rows left SENDING for the next run), the others still recorded, and
    the reason the run stopped is the one raised."""
    from records.copying.in_flight import InFlight
    from records.copying.reconcile import Sent
    from records.models import CopyJob, RecordResult

    job = make_job(results=3, status=CopyJob.Status.QUEUED, profile=vault_profile)
    job.results.update(status=RecordResult.Status.PENDING, attempts=0)
    rows = list(job.results.order_by("pk"))
    for row, name in zip(rows, "ABC", strict=True):
        row.source_id = name
    recorder = _FailingRecorder()

    def call(batch):
        time.sleep(0.05)
        return []

    with pytest.raises(KeyError, match="the first reason"), InFlight(recorder, 3) as flight:
        for row in rows:
            flight.start(([row], call, Sent()))
        raise KeyError("the first reason")
    assert sorted(recorder.recorded) == ["B", "C"]
