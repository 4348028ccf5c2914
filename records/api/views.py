"""The API's endpoints: thin over the services the web uses (copy_templates/services.py,
copying/job_actions.py and their rules). Another user's template or job is 404, as on the web."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from records.api import runs
from records.api.auth import RunScope
from records.api.serializers import (
    ErrorOut,
    JobOut,
    PreviewOut,
    ResultOut,
    ResultPageOut,
    RunInput,
    TemplateOut,
    job_data,
    preview_data,
    template_data,
)
from records.copying.job_actions import copy_job_cancel, copy_job_resume, copy_job_undo
from records.lib.error_words import service_error_message
from records.models import CopyJob, CopyTemplate

ERRORS = {401: ErrorOut, 404: ErrorOut}
KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Required to confirm: a retry with the same key answers with the same job (200), no second job.",
)


class TemplateList(APIView):
    @extend_schema(operation_id="templates_list", responses={200: TemplateOut(many=True), 401: ErrorOut})
    def get(self, request: Request) -> Response:
        """The templates you may run: your own and those shared with you."""
        templates = CopyTemplate.objects.for_user(request.user).select_related("owner")
        return Response([template_data(t) for t in templates])


class TemplateRun(APIView):
    @extend_schema(
        operation_id="templates_run",
        request=RunInput,
        parameters=[KEY],
        responses={200: PreviewOut, 201: JobOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut, 502: ErrorOut, **ERRORS},
    )
    def post(self, request: Request, code: uuid.UUID) -> Response:
        """Run a template on ids (none: its saved filter). `preview: true` answers what it would
        copy (200, also with a read token); otherwise the job is made (201) and queued, once per
        Idempotency-Key (a retry answers 200 with that job)."""
        template = CopyTemplate.objects.for_user(request.user).filter(code=code).first()
        if template is None:
            raise Http404("No such template.")
        data = _valid(RunInput, request)
        if data["preview"]:
            plan, version, refused = runs.preview_run(
                template=template, user=_user(request), ids=data["ids"], mask_suggested=data["mask_suggested"]
            )
            return Response(preview_data(plan, template=template, version=version.number, mask_unconfirmed=refused))
        if not RunScope().has_permission(request, self):
            raise PermissionDenied(RunScope.message)
        key = request.headers.get("Idempotency-Key", "")
        job, made = runs.confirm_run(
            template=template, user=_user(request), ids=data["ids"], key=key, mask_suggested=data["mask_suggested"]
        )
        return Response(job_data(job), status=status.HTTP_201_CREATED if made else status.HTTP_200_OK)


class JobDetail(APIView):
    @extend_schema(operation_id="jobs_retrieve", responses={200: JobOut, **ERRORS})
    def get(self, request: Request, code: uuid.UUID) -> Response:
        """A job's status and counts."""
        return Response(job_data(_job(request, code)))


class ResultPages(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class JobResults(APIView):
    @extend_schema(operation_id="jobs_results", responses={200: ResultPageOut, **ERRORS})
    def get(self, request: Request, code: uuid.UUID) -> Response:
        """The job's records, one row each as on its page and in its CSV, in pages (?page=, ?page_size=)."""
        job = _job(request, code)
        pages = ResultPages()
        page = pages.paginate_queryset(job.results.order_by("id"), request, view=self)
        return pages.get_paginated_response(ResultOut(page, many=True).data)


ACTION_RESPONSES = {200: JobOut, 403: ErrorOut, 409: ErrorOut, **ERRORS}


class JobCancel(APIView):
    permission_classes = [IsAuthenticated, RunScope]

    @extend_schema(operation_id="jobs_cancel", request=None, responses=ACTION_RESPONSES)
    def post(self, request: Request, code: uuid.UUID) -> Response:
        """Stop the job (as its page's Cancel): records copied so far stay. 409 with the reason when refused."""
        job = _job(request, code)
        return _act(lambda: copy_job_cancel(job=job, user=request.user))


class JobResume(APIView):
    permission_classes = [IsAuthenticated, RunScope]

    @extend_schema(operation_id="jobs_resume", request=None, responses=ACTION_RESPONSES)
    def post(self, request: Request, code: uuid.UUID) -> Response:
        """Queue the job's unfinished records again (as its page's Resume). 409 with the reason when refused."""
        job = _job(request, code)
        return _act(lambda: copy_job_resume(job=job, user=request.user))


class JobUndo(APIView):
    permission_classes = [IsAuthenticated, RunScope]

    @extend_schema(
        operation_id="jobs_undo", request=None, responses={201: JobOut, 403: ErrorOut, 409: ErrorOut, **ERRORS}
    )
    def post(self, request: Request, code: uuid.UUID) -> Response:
        """Delete the copies the job made and nobody changed since (as its page's Undo): answers
        the undo job (201). 409 with the reason when refused (a second undo among them)."""
        job = _job(request, code)
        return _act(lambda: copy_job_undo(job=job, user=request.user), made=True)


def _user(request: Request) -> User:
    """The caller: IsAuthenticated let only a signed-in user or a token's user this far."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user


def _job(request: Request, code: uuid.UUID) -> CopyJob:
    job = CopyJob.objects.for_user(request.user).filter(code=code).first()
    if job is None:
        raise Http404("No such job.")
    return job


def _act(action: Callable[[], CopyJob], *, made: bool = False) -> Response:
    try:
        job = action()
    except ValidationError as exc:  # the rule's refusal, in the web's words
        return Response({"detail": service_error_message(exc)}, status=status.HTTP_409_CONFLICT)
    return Response(job_data(job), status=status.HTTP_201_CREATED if made else status.HTTP_200_OK)


def _valid(serializer: type[RunInput], request: Request) -> dict[str, Any]:
    checked = serializer(data=request.data)
    checked.is_valid(raise_exception=True)
    return dict(checked.validated_data)
