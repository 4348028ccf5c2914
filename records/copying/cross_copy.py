"""A copy into another profile of the same system: read in the source (the snapshots of the plan),
inserted in the target wave by wave, with the same write protocol as every copy."""

from __future__ import annotations

from records.copying.engine_deep_copy import EngineDeepCopyRun
from records.copying.update_pass import UpdatePass


class CrossCopyRun(EngineDeepCopyRun):
    """The engine's deep copy (a clone is a tree of one) into the job's target profile."""

    def _copy_root(self, root_id: str) -> None:
        super()._copy_root(root_id)
        UpdatePass(self.context).run(root_id)
