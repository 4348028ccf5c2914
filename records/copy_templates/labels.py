"""The label a template's version shows its object by ("Products" for product__v), kept with the
version when it is made so the list and pages never read metadata per template."""

from __future__ import annotations

from records.connectors import connector_for
from records.connectors.base import Connector
from records.connectors.errors import ConnectorError
from records.models import ConnectionProfile, CopyTemplateVersion


def read_object_label(*, profile: ConnectionProfile, object_name: str, connector: Connector | None = None) -> str:
    """The object's plural label as the plan names objects (preview._plural_labels), read once
    (list_objects); "" when it can't be read: the version then shows the API name."""
    try:
        objects = (connector or connector_for(profile)).list_objects()
    except ConnectorError:
        return ""
    found = next((o for o in objects if o.name == object_name), None)
    return (found.label_plural or found.label) if found is not None else ""


def shown_object(version: CopyTemplateVersion) -> str:
    """The version's object as people read it; versions saved before labels were kept: its API name."""
    return version.object_label or str(version.definition.get("object_name", ""))
