"""What the API reads and answers, as DRF serializers: they validate the input and give the
OpenAPI schema its shapes. Output is built by the plain functions below from the models."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from records.copy_templates.labels import shown_object
from records.copying.tree import Plan
from records.models import CopyJob, CopyTemplate, RecordResult


class RunInput(serializers.Serializer[Any]):
    ids = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        default=list,
        max_length=1000,
        help_text="The records to copy (their ids); none: the template's saved filter finds them.",
    )
    preview = serializers.BooleanField(
        default=False, help_text="true: answer what the copy would do, queue nothing; false: confirm (make the job)."
    )
    mask_suggested = serializers.BooleanField(
        default=False,
        help_text="true: mask every field that looks personal with its suggested rule. A copy into another "
        "profile is refused (400) while a suggestion has neither this nor a rule saved in the template.",
    )


class TemplateOut(serializers.Serializer[Any]):
    code = serializers.UUIDField()
    name = serializers.CharField()
    owner = serializers.CharField(help_text="The owner's user name: OWNER/NAME names a shared template.")
    description = serializers.CharField()
    version = serializers.IntegerField(allow_null=True, help_text="The latest version, which a run runs.")
    object_name = serializers.CharField()
    object_label = serializers.CharField(help_text='The object as people read it ("Products"); else its API name.')
    mode = serializers.CharField()
    has_filter = serializers.BooleanField(help_text="Whether a run without ids copies what its saved filter finds.")


class PlanObjectOut(serializers.Serializer[Any]):
    object_name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # the field, not a Field's label
    count = serializers.IntegerField()
    depth = serializers.IntegerField()


class PreviewOut(serializers.Serializer[Any]):
    template = serializers.UUIDField()
    version = serializers.IntegerField()
    source_ids = serializers.ListField(child=serializers.CharField())
    total = serializers.IntegerField()
    objects = PlanObjectOut(many=True)
    changes = serializers.ListField(child=serializers.DictField())
    warnings = serializers.ListField(child=serializers.CharField())
    notes = serializers.ListField(child=serializers.CharField())
    refused_reason = serializers.CharField(help_text='Why this copy can\'t run ("": it can); a confirm is refused too.')
    way = serializers.CharField()
    cost = serializers.DictField()
    mask_unconfirmed = serializers.CharField(
        help_text='Why a confirm would be refused by the masking suggestions ("": it wouldn\'t).'
    )


class JobOut(serializers.Serializer[Any]):
    code = serializers.UUIDField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=CopyJob.Status.choices)
    mode = serializers.ChoiceField(choices=CopyJob.Mode.choices)
    object_name = serializers.CharField()
    source_ids = serializers.ListField(child=serializers.CharField())
    planned = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    error = serializers.CharField()
    created = serializers.DateTimeField()
    started = serializers.DateTimeField(allow_null=True)
    finished = serializers.DateTimeField(allow_null=True)
    template = serializers.UUIDField(allow_null=True)
    template_version = serializers.IntegerField(allow_null=True)
    undone_by = serializers.UUIDField(allow_null=True, help_text="The undo job of this copy, if any.")
    undoes = serializers.UUIDField(allow_null=True, help_text="An undo: the copy it undoes.")


class ResultOut(serializers.ModelSerializer[RecordResult]):
    """One record of a job, as the job page and its CSV show it."""

    object = serializers.CharField(source="object_name")
    outcome = serializers.CharField(source="status")
    name = serializers.CharField(source="source_name")

    class Meta:
        model = RecordResult
        fields = [
            "object",
            "source_id",
            "new_id",
            "parent_source_id",
            "depth",
            "outcome",
            "error_type",
            "error_message",
            "link",
            "name",
        ]


class ResultPageOut(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ResultOut(many=True)


class ErrorOut(serializers.Serializer[Any]):
    detail = serializers.CharField()


def template_data(template: CopyTemplate) -> dict[str, Any]:
    version = template.latest
    definition = version.definition if version else {}
    options = definition.get("options") or {}
    return {
        "code": template.code,
        "name": template.name,
        "owner": template.owner.username,
        "description": template.description,
        "version": version.number if version else None,
        "object_name": definition.get("object_name", ""),
        "object_label": shown_object(version) if version else "",
        "mode": definition.get("mode", ""),
        "has_filter": bool(options.get("source_filter")),
    }


def preview_data(plan: Plan, *, template: CopyTemplate, version: int, mask_unconfirmed: str = "") -> dict[str, Any]:
    shown = plan.as_dict()
    keep = ("total", "changes", "warnings", "notes", "refused_reason", "way", "cost")
    return {
        "template": template.code,
        "version": version,
        "source_ids": list(plan.source_ids),
        "objects": [{k: o.get(k) for k in ("object_name", "label", "count", "depth")} for o in shown["objects"]],
        **{k: shown[k] for k in keep},
        "mask_unconfirmed": mask_unconfirmed,
    }


def job_data(job: CopyJob) -> dict[str, Any]:
    version = job.template_version
    return {
        "code": job.code,
        "title": job.title,
        "status": job.status,
        "mode": job.mode,
        "object_name": job.object_name,
        "source_ids": list(job.source_ids or []),
        "planned": job.planned_count,
        "succeeded": job.succeeded_count,
        "failed": job.failed_count,
        "error": job.error_summary,
        "created": job.created,
        "started": job.started,
        "finished": job.finished,
        "template": version.template.code if version else None,
        "template_version": version.number if version else None,
        "undone_by": job.undo_job.code if job.undo_job_id and job.undo_job else None,
        "undoes": job.parent_job.code if job.mode == CopyJob.Mode.UNDO and job.parent_job else None,
    }
