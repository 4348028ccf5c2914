"""How a deep copy is made: the one rule the preview, the plan's snapshot and the run share."""

from __future__ import annotations

from enum import StrEnum

from records.connectors.base import Connector
from records.copying.options import CopyOptions


class DeepCopyWay(StrEnum):
    SYSTEM = "system"  # the system's own deep copy (Vault's Deep Copy Object Record)
    ENGINE = "engine"  # built by Record Copier level by level (Zoho; Vault when asked or needed)


def deep_copy_way(connector: Connector, options: CopyOptions, object_name: str) -> DeepCopyWay:
    """The system's own deep copy where it has one and can make this copy; otherwise the engine's:
    asked for (--engine), or choices below the top the system's copy can't make (options.engine_builds)."""
    native = connector.native_deep_copy
    if native and not options.engine_builds(native=True, top_object=object_name):
        return DeepCopyWay.SYSTEM
    return DeepCopyWay.ENGINE
