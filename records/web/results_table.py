"""The job page's results table: the results under its filters, one page of them by keyset
(?after=, ?before=, ?last=1), each row's HTML, and the values a copy was given in words (the
results CSV writes them too)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import escape, format_html

from records.connectors import connector_class
from records.copying import undo_checks
from records.copying.field_labels import labels_for, plan_field_labels
from records.models import CopyJob, RecordResult
from records.web.forms import ResultFilterForm

RESULTS_PER_PAGE = 50


@dataclass(frozen=True)
class FilteredResults:
    """The job's results under the page's filters, and the filters as chosen ("" for any)."""

    form: ResultFilterForm
    results: QuerySet[RecordResult]
    outcome: str
    object: str
    q: str  # the name or id searched


def filtered_results(request: HttpRequest, job: CopyJob, objects: list[str]) -> FilteredResults:
    form = ResultFilterForm(request.GET or None, objects=objects)
    results = job.results.all()
    outcome = obj = q = ""
    if form.is_valid():
        outcome, obj, q = form.cleaned_data["outcome"], form.cleaned_data["object"], form.cleaned_data["q"].strip()
    if outcome:
        results = results.filter(status=outcome)
    if obj:
        results = results.filter(object_name=obj)
    if q:
        results = results.filter(Q(source_id__icontains=q) | Q(new_id__icontains=q) | Q(source_name__icontains=q))
    return FilteredResults(form, results, outcome, obj, q)


def filtered_total(chosen: FilteredResults, groups: dict[tuple[str, str], int]) -> int:
    """How many results the filters leave: from the groups, unless a search needs its own count."""
    if chosen.q:
        return chosen.results.count()
    return sum(
        n
        for (o, s), n in groups.items()
        if (not chosen.object or o == chosen.object) and (not chosen.outcome or s == chosen.outcome)
    )


def filters_query(request: HttpRequest) -> str:
    """The page's filters, url-encoded, without the page's cursor (the page links add theirs)."""
    query = request.GET.copy()
    for name in ("page", "after", "before", "last"):
        query.pop(name, None)
    return query.urlencode()


# Keyset pagination: ?after=<id> (the next page), ?before=<id> (the previous one), ?last=1. Each
# page reads one index range from a cursor, so the last page of 10,000 results costs what the
# first does (an OFFSET reads and throws away every row before the page). Totals come from one
# grouped COUNT per (object, outcome), which also fills the outcome badges and the object filter.
# The job's own counters are not used for these: the engine refreshes them only now and then
# during a run, and they have no pending/sending/skipped numbers.

RESULT_FIELDS = (
    "id",
    "job",
    "object_name",
    "source_id",
    "source_name",
    "new_id",
    "parent_source_id",
    "status",
    "error_type",
    "error_message",
    "link",
    "values",
    "candidates",
    "action",
    "depth",  # the top copy's name (undo_checks.copy_name)
)


@dataclass
class ResultsPage:
    rows: list[RecordResult]
    total: int
    start: int  # 1-based position of the first row (0 when there are no rows)
    has_previous: bool
    has_next: bool
    query: str  # the filters, url-encoded, without the cursor
    end: int = field(init=False)

    def __post_init__(self) -> None:
        self.end = self.start + len(self.rows) - 1 if self.rows else 0

    def _link(self, cursor: str) -> str:
        return "?" + "&".join(part for part in (self.query, cursor) if part)

    @property
    def first_url(self) -> str:
        return self._link("")

    @property
    def previous_url(self) -> str:
        return self._link(f"before={self.rows[0].pk}") if self.rows else self.first_url

    @property
    def next_url(self) -> str:
        return self._link(f"after={self.rows[-1].pk}") if self.rows else self.first_url

    @property
    def last_url(self) -> str:
        return self._link("last=1")


def _cursor(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def results_page(request: HttpRequest, results: QuerySet[RecordResult], total: int, query: str) -> ResultsPage:
    """One page of `results` (already filtered) at the cursor in the request: 1–2 queries."""
    rows_qs = results.only(*RESULT_FIELDS)
    after, before = _cursor(request, "after"), _cursor(request, "before")
    size = RESULTS_PER_PAGE
    if request.GET.get("last"):
        rows = list(rows_qs.order_by("-id")[: size + 1])
        has_previous, rows = len(rows) > size, rows[:size][::-1]
        return ResultsPage(rows, total, total - len(rows) + 1 if rows else 0, has_previous, False, query)
    if before is not None:
        rows = list(rows_qs.filter(id__lt=before).order_by("-id")[: size + 1])
        has_previous, rows = len(rows) > size, rows[:size][::-1]
        # A `before` cursor is the first row of a page the user saw, so there is a next page.
        has_next = True
    else:
        qs = rows_qs.filter(id__gt=after) if after is not None else rows_qs
        rows = list(qs.order_by("id")[: size + 1])
        has_next, rows = len(rows) > size, rows[:size]
        has_previous = after is not None
    if not rows:
        return ResultsPage([], total, 0, has_previous, has_next, query)
    # Position of the first row: nothing to count on the first page; else an index-range count.
    before_first = results.filter(id__lt=rows[0].pk).count() if has_previous else 0
    return ResultsPage(rows, total, before_first + 1, has_previous, has_next, query)


STATUS_LABELS = dict(RecordResult.Status.choices)
ACTION_LABELS = dict(RecordResult.Action.choices)


@dataclass(frozen=True)
class RowWords:
    """What the rows of one page need to say names rather than ids: the objects' and the changed
    fields' labels, the name fields of the job's system (the copy's name is the value one of them
    was given), and the parents' names, read once per page (parent_names)."""

    objects: dict[str, str] = field(default_factory=dict)
    fields: dict[str, dict[str, str]] = field(default_factory=dict)  # {object: {field: label}}
    name_fields: tuple[str, ...] = ()
    job: CopyJob | None = None  # for the name the person gave the top copy (undo_checks.copy_name)
    parents: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (name, id shown)
    deleted: bool = False  # the job was undone: its copies are gone
    cross: bool = False  # a copy into another profile: each row says what it did there


def row_words(job: CopyJob, rows: list[RecordResult], objects: dict[str, str]) -> RowWords:
    """One or two queries for the parents' names, whatever the number of rows."""
    name_fields = connector_class(job.profile.system).name_fields
    undone = job.parent_job if job.mode == CopyJob.Mode.UNDO else None
    return RowWords(
        objects=objects,
        fields=plan_field_labels(job.plan),
        name_fields=name_fields,
        job=job,
        parents=undo_parents(undone, rows, name_fields) if undone else parent_names(job, rows),
        deleted=job.status == CopyJob.Status.UNDONE,
        cross=bool(job.target_profile_id),
    )


def parent_names(job: CopyJob, rows: list[RecordResult]) -> dict[str, tuple[str, str]]:
    """{parent source id: (its name, its id)} for the parents of `rows` that are records of this job."""
    ids = {r.parent_source_id for r in rows if r.parent_source_id}
    if not ids:
        return {}
    found = job.results.filter(source_id__in=ids).exclude(source_name="").values_list("source_id", "source_name")
    return {source_id: (name, source_id) for source_id, name in found}


def undo_parents(undone: CopyJob, rows: list[RecordResult], name_fields: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """For an undo's rows, whose parent_source_id is the original's source id (job_actions._add_undo_rows):
    {that id: (the parent copy's name, its id)}, or for a top copy ("copy of <source name>", "")."""
    ids = {r.parent_source_id for r in rows if r.parent_source_id}
    # "job" in each: rows read through the job's related manager get that job set, which reads the
    # row's job id (deferred, a query a row of the page).
    fields = ("job", "source_id", "parent_source_id", "source_name", "action")
    originals = list(undone.results.filter(source_id__in=ids).only(*fields))
    parent_ids = {r.parent_source_id for r in originals if r.parent_source_id}
    parent_fields = ("job", "source_id", "new_id", "values", "depth", "source_name")
    parent_rows = undone.results.filter(source_id__in=parent_ids).only(*parent_fields)
    copies = {p.source_id: (undo_checks.copy_name(p, name_fields, undone), p.new_id) for p in parent_rows}
    return {r.source_id: _undo_parent(r, copies) for r in originals}


def _undo_parent(original: RecordResult, copies: dict[str, tuple[str, str]]) -> tuple[str, str]:
    if original.action == RecordResult.Action.UPDATE:
        return ("", "")  # an update made no copy: its undo writes old values back, under no parent
    if original.parent_source_id:
        return copies.get(original.parent_source_id, ("", ""))
    return (f"copy of {original.source_name or original.source_id}", "")


def copy_name(r: RecordResult, words: RowWords) -> str:
    """The copy's name: the value a name field was given (an override, a template, make unique),
    else the name given to the top copy, else the source's name, which the copy kept."""
    return undo_checks.copy_name(r, words.name_fields, words.job)


def result_row_html(r: RecordResult, words: RowWords) -> str:
    """One row of the results table. Built here rather than in the template: rendering 50 rows
    through the template engine took about half of the page's server time."""
    parent, parent_id = words.parents.get(r.parent_source_id) or ("", r.parent_source_id)
    return format_html(
        '<tr><td>{}</td><td>{}</td><td class="mono">{}</td><td class="mono">{}</td><td>{}</td><td>{}</td>'
        '<td><span class="badge badge-{}">{}</span>{}</td><td>{}</td><td>{}</td></tr>\n',
        copy_name(r, words) or "—",
        r.source_name or "—",
        r.source_id,
        _new_id(r, words.deleted),
        words.objects.get(r.object_name) or r.object_name,
        _parent(parent, parent_id),
        r.status,
        STATUS_LABELS.get(r.status, r.status),
        _action(r, words.cross),
        _error(r),
        values_text(r.values, labels_for(words.fields, r.object_name)),
    )


def _action(r: RecordResult, cross: bool) -> str:
    """A cross copy's row: created, skipped (found there already) or updated, once it is done."""
    if not cross or r.status != RecordResult.Status.SUCCEEDED:
        return ""
    return format_html(' <span class="row-action">{}</span>', ACTION_LABELS.get(r.action, r.action))


def _parent(name: str, record_id: str) -> str:
    if name and record_id:
        return format_html('{} <span class="mono muted small-text">{}</span>', name, record_id)
    return escape(name or record_id or "—")


def _new_id(r: RecordResult, deleted: bool) -> str:
    """The new record's id, linked; struck through once the job was undone (no link: it's gone)."""
    if r.new_id and deleted:
        return format_html("<del>{}</del> (deleted)", r.new_id)
    if r.new_id and r.link:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}<span class="sr-only">'
            " (opens the new record)</span></a>",
            r.link,
            r.new_id,
        )
    return escape(r.new_id or "—")


def _error(r: RecordResult) -> str:
    error = ""
    if r.error_type or r.error_message:
        sep = ": " if r.error_type and r.error_message else ""
        error = format_html('<span class="err"><strong>{}</strong>{}{}</span>', r.error_type, sep, r.error_message)
    if r.status == RecordResult.Status.REVIEW:
        error = format_html('{} <a href="#review-h">Candidates: {}</a>', error, _candidate_ids(r.candidates))
    return error


def _candidate_ids(candidates: list[Any] | None) -> str:
    return ", ".join(str(c.get("id")) for c in candidates or [] if isinstance(c, dict))


def values_text(values: dict[str, Any] | None, labels: dict[str, str] | None = None) -> str:
    """The values overrides, templates, lineage and "make unique" gave a copy: "F = v; G = (cleared)",
    and the numbered tries when there were any. Internal keys (leading "_") are not shown. `labels`:
    the fields' labels for the page ("Price = 99.5"); the CSV keeps the API names a sheet can use."""
    if not values:
        return ""
    names = labels or {}
    parts = [
        f"{names.get(k) or k} = {'(cleared)' if v is None else v}" for k, v in values.items() if not k.startswith("_")
    ]
    tries = values.get("_unique_tries")
    if tries:
        parts.append(f"made unique after {len(tries)} tr{'y' if len(tries) == 1 else 'ies'}: {', '.join(tries)}")
    return "; ".join(parts)
