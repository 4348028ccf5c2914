"""A template as the CLI's --json, the pages and (later) the API show it."""

from __future__ import annotations

import uuid
from typing import Any

from records.copy_templates.labels import shown_object
from records.copying.options import CopyOptions
from records.models import ConnectionProfile, CopyJob, CopyTemplate, CopyTemplateVersion


def template_as_dict(template: CopyTemplate, *, versions: bool = False) -> dict[str, Any]:
    latest = template.latest
    data: dict[str, Any] = {
        "name": template.name,
        "code": str(template.code),
        "description": template.description,
        "owner": template.owner.username,
        "shared_with_users": sorted(u.username for u in template.shared_with_users.all()),
        "shared_with_groups": sorted(g.name for g in template.shared_with_groups.all()),
        "version": latest.number if latest else None,
        "object_label": shown_object(latest) if latest else "",
        "summary": summary(latest) if latest else "",
    }
    if versions:
        data["versions"] = [version_as_dict(v) for v in template.versions.order_by("number")]
    return data


def version_as_dict(version: CopyTemplateVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "created": version.created.isoformat(),
        "created_by": version.created_by.username if version.created_by else None,
        "object_label": shown_object(version),
        "definition": version.definition,
        "jobs": list(version.jobs.values_list("pk", flat=True)),
    }


def summary(version: CopyTemplateVersion) -> str:
    """ "Deep copy of Accounts from Sandbox Zoho into Zoho Training (filter: …)"."""
    definition = version.definition
    codes = [c for c in (_uuid(definition.get("profile")), _uuid(definition.get("target"))) if c]
    names = {str(c): n for c, n in ConnectionProfile.objects.filter(code__in=codes).values_list("code", "name")}
    source = names.get(str(definition.get("profile")), "a deleted profile")
    into = f" into {names.get(str(definition['target']), 'a deleted profile')}" if definition.get("target") else ""
    mode = CopyJob.Mode(definition["mode"]).label
    options = CopyOptions.from_dict(definition.get("options"))
    query = f" (filter: {options.source_filter})" if options.source_filter else ""
    return f"{mode} of {shown_object(version)} from {source}{into}{query}"


def _uuid(code: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(code))
    except ValueError:
        return None
