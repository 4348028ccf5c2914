"""Writing outcomes to RecordResult rows and the job's counters."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from operator import attrgetter
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import Field
from django.utils import timezone

from records.connectors.base import WriteResult
from records.connectors.errors import ConnectorError
from records.copying import lifecycle, row_statements, tally
from records.copying.lifecycle import Fence
from records.copying.result_rows import new_rows
from records.models import RecordResult

S = RecordResult.Status
IN_CHUNK = 500  # ids a `WHERE id IN (…)`: far below SQLite's and PostgreSQL's parameter limits


def mark_sending(rows: list[RecordResult], *, fence: Fence | None = None) -> None:
    """Commit the attempt before the remote write: a row left SENDING is reconciled, never resent
    blindly. Fenced like every row write: a worker that lost its lease stops here, before the call.

    One UPDATE … WHERE id IN (…) per attempt count (a batch's rows share one, nearly always):
    the same columns as a row-by-row write, at about a third of its time on SQLite, and the run's
    thread does it before every batch it sends."""
    now = timezone.now()
    by_attempts: dict[int, list[int]] = {}
    for row in rows:
        row.status = S.SENDING
        row.attempts += 1
        row.sending_at = row.updated = now
        by_attempts.setdefault(row.attempts, []).append(row.id)
    if not rows:
        return
    with _fenced(_run_fence(fence)):
        for attempts, pks in by_attempts.items():
            for start in range(0, len(pks), IN_CHUNK):
                RecordResult.objects.filter(pk__in=pks[start : start + IN_CHUNK]).update(
                    status=S.SENDING, attempts=attempts, sending_at=now, updated=now
                )
    tally.tell(rows)


def succeed(row: RecordResult, new_id: str, link: str = "") -> None:
    row.status, row.new_id, row.link = S.SUCCEEDED, new_id, link
    row.error_type = row.error_message = ""
    if new_id:
        row.written_at = timezone.now()


def fail(row: RecordResult, error_type: str, message: str) -> None:
    row.status, row.error_type, row.error_message = S.FAILED, error_type[:100], message[:2000]


def fail_with(row: RecordResult, exc: ConnectorError) -> None:
    fail(row, exc.error_type, exc.message)


def apply_write(row: RecordResult, outcome: WriteResult, link: str = "") -> None:
    if outcome.ok:
        succeed(row, outcome.new_id, link)
    else:
        fail(row, outcome.error_type or "ERROR", outcome.error_message or "The record was not written.")


SAVED_FIELDS = (
    "status",
    "new_id",
    "link",
    "error_type",
    "error_message",
    "attempts",
    "values",
    "written_at",
    "candidates",
)


def save(rows: list[RecordResult], *, fence: Fence | None = None) -> None:
    _write(rows, SAVED_FIELDS, fence)


def fail_all(rows: list[RecordResult], exc: ConnectorError, *, fence: Fence | None = None) -> None:
    """Every row of a call that failed as a whole (its error says why), saved."""
    for row in rows:
        fail_with(row, exc)
    save(rows, fence=fence)


def not_sent(rows: list[RecordResult], *, fence: Fence | None = None) -> None:
    """Rows marked SENDING whose write never went out (refused before it was applied, or its call
    never started): PENDING again, the attempt not counted."""
    for row in rows:
        row.status = S.PENDING
        row.attempts = max(0, row.attempts - 1)
    save(rows, fence=fence)


def save_in_batches(rows: list[RecordResult], size: int = 500, *, fence: Fence | None = None) -> None:
    for start in range(0, len(rows), size):
        save(rows[start : start + size], fence=fence)


def insert(rows: Sequence[RecordResult]) -> None:
    """Insert new result rows, skipping any (job, object, record) already there, in one statement.

    The same as bulk_create(ignore_conflicts=True) at a third of its CPU: a 10,000-record plan
    spends its time here, not in the ORM's per-value compiler (a new job's rows are made without
    the model's constructor: result_rows.new_rows).
    """
    if rows:
        fields = _insert_fields()
        _insert(fields, _insert_params(rows, fields, timezone.now()))


class MadeAhead:
    """New rows' column values made before their job's row exists (a bulk clone's, while its
    plan's last answers are out; a deep copy's, a record at a time as its tree is read), so that
    only the statement is left once the job is saved: `insert(job_id=)` sets the job and the
    creation stamps (the moment of the insert, as insert's)."""

    def __init__(self, rows: Sequence[RecordResult] = ()) -> None:
        self.fields = _insert_fields()
        self._values = _ParamMaker(self.fields, timezone.now())
        self.params = [self._values(row) for row in rows]
        self._default: list[Any] | None = None
        self._columns: dict[str, tuple[int, Callable[[Any], Any]]] = {}

    def add(self, given: Mapping[str, Any]) -> None:
        """One more row, inserted after those made before it: its columns `given` (by attname),
        every other column its default. No model instance is made (a deep copy makes a row a
        record as its tree is read, while its pages' answers are decoded in other threads)."""
        if self._default is None:
            self._default = self._values(new_rows(None, [{}])[0])
            self._columns = {f.attname: (i, _preparer(f)) for i, f in enumerate(self.fields)}
        values = self._default.copy()
        for name, value in given.items():
            at, prepare = self._columns[name]
            values[at] = None if value is None else prepare(value)
        self.params.append(values)

    def set_each(self, attname: str, values: Iterable[Any]) -> None:
        """A plain column (a str, an int) set row by row, in the order the rows were made: a
        value known only once every row is made (a deep copy's creation waves)."""
        at = next(i for i, f in enumerate(self.fields) if f.attname == attname)
        for params, value in zip(self.params, values, strict=True):
            params[at] = value

    def insert(self, *, job_id: int) -> None:
        """As `insert`: one statement, any (job, object, record) already there skipped."""
        if not self.params:
            return
        now = timezone.now()
        late = [(i, f.get_db_prep_save(now, connection)) for i, f in enumerate(self.fields) if _stamped(f)]
        late.append((next(i for i, f in enumerate(self.fields) if f.attname == "job_id"), job_id))
        for values in self.params:
            for i, value in late:
                values[i] = value
        _insert(self.fields, self.params)


def _insert_fields() -> list[Field[Any, Any]]:
    return [f for f in RecordResult._meta.concrete_fields if isinstance(f, Field) and not f.primary_key]


def _insert(fields: list[Field[Any, Any]], params: list[list[Any]]) -> None:
    with _fenced(None):
        row_statements.insert_ignoring(RecordResult._meta.db_table, fields, params)


def _stamped(field: Field[Any, Any]) -> bool:
    """A creation or change stamp: set once for a whole insert."""
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


# Columns whose database value is the Python value itself when that is a str, an int or None:
# their preparation (to_python, then the backend's adapter) hands such a value back unchanged, at
# ~10 µs a column; a 5,000-record plan has 110,000 of them. Exact types: a subclass may convert.
_PLAIN_COLUMNS = (
    models.CharField,
    models.URLField,
    models.TextField,
    models.PositiveSmallIntegerField,
    models.ForeignKey,
)


def _insert_params(rows: Sequence[RecordResult], fields: list[Field[Any, Any]], now: datetime) -> list[list[Any]]:
    """Each new row's column values as the database takes them (_ParamMaker)."""
    values = _ParamMaker(fields, now)
    return [values(row) for row in rows]


def _preparer(field: Field[Any, Any]) -> Callable[[Any], Any]:
    """A column's value (not None) as the database takes it: what _ParamMaker does with it."""
    if field.get_internal_type() == "JSONField":
        return _json_encoder(field)
    plain = type(field) in _PLAIN_COLUMNS
    return lambda value: value if plain and type(value) in (str, int) else field.get_db_prep_save(value, connection)


class _ParamMaker:
    """A new row's column values as the database takes them: the creation stamps once for the
    whole statement (its rows are inserted at one moment), plain values as they are, others by
    Django (Field.pre_save but for the stamps: no file columns). Every column read by one
    attrgetter call a row and checked inline: a function call per column was most of the cost.
    Worked out once for many rows, which may come one at a time (MadeAhead.add)."""

    def __init__(self, fields: list[Field[Any, Any]], now: datetime) -> None:
        stamps = {i: f for i, f in enumerate(fields) if _stamped(f)}
        self.stamped = {f.attname: now for f in stamps.values()}
        self.stamp_values = [(i, f.get_db_prep_save(now, connection)) for i, f in stamps.items()]
        self.checked = [(i, f, type(f) in _PLAIN_COLUMNS) for i, f in enumerate(fields) if i not in stamps]
        self.read = attrgetter(*(f.attname for f in fields))

    def __call__(self, row: RecordResult) -> list[Any]:
        row.__dict__.update(self.stamped)
        values = list(self.read(row))
        for i, stamp in self.stamp_values:
            values[i] = stamp
        for i, field, plain in self.checked:
            value = values[i]
            if value is not None and not (plain and type(value) in (str, int)):
                values[i] = field.get_db_prep_save(value, connection)
        return values


def _write(rows: list[RecordResult], names: tuple[str, ...], fence: Fence | None = None) -> None:
    """The rows' `names` columns written, in one statement (row_statements.update_by_id).

    `fence` (default: the run's, lifecycle.current_fence): the rows are written only while that
    lease generation holds the job, in the same transaction; else LeaseLost and nothing lands.
    Django's bulk_update builds a CASE WHEN per field over the batch: ~8 ms of CPU per row here,
    most of the engine's time. One statement with each row's values (executemany on SQLite, one
    array a column on PostgreSQL) costs microseconds a row. Every row is written, changed or not
    (idempotent).
    """
    if not rows:
        return
    now = timezone.now()
    stamp = _field("updated").get_db_prep_value(now, connection)
    read = attrgetter(*names)  # one call a row for every column, not one getattr a column
    # JSON columns need encoding; the plain ones go as they are (CPU per row).
    encoders = [
        (i, _json_encoder(_field(n))) for i, n in enumerate(names) if _field(n).get_internal_type() == "JSONField"
    ]
    params = []
    for row in rows:
        row.updated = now
        values = list(read(row))
        for i, encode in encoders:
            if values[i] is not None:
                values[i] = encode(values[i])
        values += (stamp, row.id)
        params.append(values)
    with _fenced(_run_fence(fence)):
        fields = [*(_field(n) for n in names), _field("updated")]
        row_statements.update_by_id(RecordResult._meta.db_table, fields, params)
    tally.tell(rows)  # the run's progress counters, without recounting the job's rows


@contextmanager
def _fenced(fence: Fence | None) -> Iterator[None]:
    """One transaction for a batch's statements, which land only while `fence` holds the job
    (checked first, row-locked: LeaseLost and nothing runs otherwise; None: not fenced, as a new
    job's rows are inserted). One transaction, not autocommit: each row would be a commit of its
    own (on SQLite ~150 µs a row instead of a few)."""
    with transaction.atomic():
        lifecycle.check(fence)
        yield


def _run_fence(fence: Fence | None) -> Fence | None:
    """The fence a row write of the run holds to: the one given, else the run's in this thread."""
    return fence or lifecycle.current_fence.get()


def _json_encoder(field: Field[Any, Any]) -> Callable[[Any], Any]:
    """A JSON column's value of a plain dict or list as the backend takes it: what the field's
    get_db_prep_save ends in (adapt_json_value with its encoder), without its checks for
    expressions, which a row's attribute never holds here (~2 µs a value; 1,000 a batch)."""
    adapt, encoder = connections[DEFAULT_DB_ALIAS].ops.adapt_json_value, getattr(field, "encoder", None)
    return lambda value: adapt(value, encoder)


def _field(name: str) -> Field[Any, Any]:
    """A concrete column of RecordResult (the raw statements above name only those)."""
    field = RecordResult._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"RecordResult.{name} is not a column")
    return field
