"""The RQ dashboard (django-rq's views under /admin/rq/), locked down.

Only superusers and holders of `records.use_queue_dashboard` may open it (django-rq alone lets
any staff account in). Whatever it does to an RQ job that runs a copy job goes through the job
services first, so the CopyJob row stays true: deleting or stopping one cancels the copy job
(`copy_job_cancel`); requeueing one is refused (a copy job is run again by Resume on its page,
`copy_job_resume`, which knows which rows to resend).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import URLPattern, reverse
from django_rq import views as rq_views
from django_rq.admin import QueueAdmin
from django_rq.models import Dashboard
from django_rq.queues import get_queue_by_index
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.queue import Queue
from rq.registry import FailedJobRegistry
from rq.worker import Worker

from records.copying.job_actions import copy_job_cancel
from records.models import CopyJob

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

PERMISSION = "records.use_queue_dashboard"
COPY_JOB_FUNC = "records.jobs.run_copy_job"
REFUSED = "{n} of these RQ jobs run copy jobs: use Resume on the job's page (it resends only what failed)."


def may_use_dashboard(user: User | AnonymousUser) -> bool:
    return user.is_active and (user.is_superuser or user.has_perm(PERMISSION))


def _copy_jobs(queue: Queue, rq_ids: Iterable[str]) -> list[CopyJob]:
    """The CopyJob rows behind these RQ job ids (ids that don't run a copy job are skipped)."""
    pks = []
    for rq_id in rq_ids:
        try:
            rq_job = Job.fetch(rq_id, connection=queue.connection, serializer=queue.serializer)
        except NoSuchJobError:
            continue
        if rq_job.func_name == COPY_JOB_FUNC and rq_job.args:
            pks.append(rq_job.args[0])
    return list(CopyJob.objects.filter(pk__in=pks).select_related("profile"))


def _cancel(request: HttpRequest, jobs: list[CopyJob]) -> None:
    running = [job for job in jobs if not job.is_finished]
    for job in running:
        copy_job_cancel(job=job, user=request.user)
    if running:
        messages.info(request, f"Copy jobs cancelled through the job service: {', '.join(str(j.pk) for j in running)}.")


def _refuse(request: HttpRequest, jobs: list[CopyJob], back: str) -> HttpResponseBase | None:
    if not jobs:
        return None
    messages.error(request, REFUSED.format(n=len(jobs)))
    return redirect(back)


def _back(queue_index: int, job_id: str | None = None) -> str:
    if job_id:
        return reverse("django_rq:job_detail", args=[queue_index, job_id])
    return reverse("django_rq:jobs", args=[queue_index])


# Hooks run on POST before django-rq's view; a response returned replaces the view's.
Hook = Callable[..., HttpResponseBase | None]


def _cancel_one(request: HttpRequest, queue: Queue, queue_index: int, job_id: str) -> None:
    _cancel(request, _copy_jobs(queue, [job_id]))


def _stop_one(request: HttpRequest, queue: Queue, queue_index: int, job_id: str) -> HttpResponseBase | None:
    # A copy job is stopped by its own cancel flag at the next batch, not by killing the worker
    # mid-write (which would leave records sent but not recorded).
    jobs = _copy_jobs(queue, [job_id])
    if jobs:
        _cancel(request, jobs)
        return redirect(_back(queue_index, job_id))
    return None


def _refuse_one(request: HttpRequest, queue: Queue, queue_index: int, job_id: str) -> HttpResponseBase | None:
    return _refuse(request, _copy_jobs(queue, [job_id]), _back(queue_index, job_id))


def _cancel_queued(request: HttpRequest, queue: Queue, queue_index: int) -> None:
    _cancel(request, _copy_jobs(queue, queue.get_job_ids()))


def _cancel_failed(request: HttpRequest, queue: Queue, queue_index: int) -> None:
    _cancel(request, _copy_jobs(queue, FailedJobRegistry(queue=queue).get_job_ids()))


def _refuse_failed(request: HttpRequest, queue: Queue, queue_index: int) -> HttpResponseBase | None:
    return _refuse(request, _copy_jobs(queue, FailedJobRegistry(queue=queue).get_job_ids()), _back(queue_index))


def _bulk(request: HttpRequest, queue: Queue, queue_index: int) -> HttpResponseBase | None:
    jobs = _copy_jobs(queue, request.POST.getlist("job_ids"))
    action = request.POST.get("action")
    if action == "requeue":
        return _refuse(request, jobs, _back(queue_index))
    if action in ("delete", "stop"):
        _cancel(request, jobs)
        if action == "stop" and jobs:
            return redirect(_back(queue_index))
    return None


HOOKS: dict[Callable[..., Any], Hook] = {
    rq_views.delete_job: _cancel_one,
    rq_views.stop_job: _stop_one,
    rq_views.requeue_job_view: _refuse_one,
    rq_views.enqueue_job: _refuse_one,
    rq_views.clear_queue: _cancel_queued,
    rq_views.delete_failed_jobs: _cancel_failed,
    rq_views.requeue_all: _refuse_failed,
    rq_views.actions: _bulk,
}


def _worker_exists(request: HttpRequest, queue: Queue, queue_index: int, key: str) -> None:
    # django-rq asserts the worker exists (a 500 for a worker that has just gone): a 404 instead.
    try:
        found = Worker.find_by_key(key, connection=queue.connection)
    except ValueError:  # not even a worker key
        found = None
    if found is None:
        raise Http404("No such worker")


# Checks on every method, before django-rq's view.
CHECKS: dict[Callable[..., Any], Callable[..., None]] = {rq_views.worker_details: _worker_exists}


def guarded(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    # django-rq's admin wraps its views once more (functools.wraps keeps the original reachable).
    original: Callable[..., HttpResponseBase] = getattr(view, "__wrapped__", view)
    hook = HOOKS.get(view) or HOOKS.get(original)
    check = CHECKS.get(view) or CHECKS.get(original)

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not (request.user.is_authenticated and request.user.is_staff):
            # As the admin does: to its login page (django-rq's views require staff too).
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not may_use_dashboard(request.user):
            raise PermissionDenied("The queue dashboard is for superusers and queue operators.")
        if check:
            check(request, get_queue_by_index(kwargs["queue_index"]), **kwargs)
        if hook and request.method == "POST" and "queue_index" in kwargs:
            queue = get_queue_by_index(kwargs["queue_index"])
            response = hook(request, queue, **kwargs)
            if response is not None:
                return response
        return view(request, *args, **kwargs)

    return wrapped


# rq-scheduler's page: this app doesn't install rq-scheduler, so it could only answer 500.
UNUSED = ("scheduler_jobs",)


def urlpatterns() -> list[URLPattern]:
    patterns = [p for p in get_admin_urlpatterns(view_wrapper=guarded) if p.name not in UNUSED]
    for pattern in get_api_urlpatterns():
        pattern.callback = guarded(pattern.callback)
        patterns.append(pattern)
    return patterns


def lock_down_admin_copy() -> None:
    """django-rq also mounts the same views in the admin (/admin/django_rq/dashboard/...), for
    any staff: put the same guard on that copy, and show its link only to those it lets in."""

    class GuardedQueueAdmin(QueueAdmin):
        def has_module_permission(self, request: HttpRequest) -> bool:
            return may_use_dashboard(request.user)

        def get_urls(self) -> list[URLPattern]:
            # Dashboard is an unmanaged model with no table: its add/change/delete/history pages
            # (and the catch-all to them) could only fail. Keep the dashboard views and the list.
            dead = tuple(f"_dashboard_{page}" for page in ("add", "change", "delete", "history"))
            dead += tuple(f"django_rq_{name}" for name in UNUSED)
            # django-rq's get_urls has no annotations.
            urls: list[URLPattern] = super().get_urls()  # type: ignore[no-untyped-call]
            patterns = [p for p in urls if p.name and not p.name.endswith(dead)]
            for pattern in patterns:
                pattern.callback = guarded(pattern.callback)
            return patterns

    if admin.site.is_registered(Dashboard):
        admin.site.unregister(Dashboard)
        admin.site.register(Dashboard, GuardedQueueAdmin)
