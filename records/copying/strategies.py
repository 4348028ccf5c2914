"""Which strategy runs a job: one small object per kind of copy, given the run's context.

copy_job_run (services.py)
  -> strategy_for(RunContext.for_job(job, connector, fence)).run()
       CloneRun           clone.py             the system's copy action, batch by batch (BatchWriter)
       VaultDeepCopyRun   vault_deep_copy.py   Vault's own deep copy, one Vault job per top record
       EngineDeepCopyRun  engine_deep_copy.py  the engine's deep copy, wave by wave (BatchWriter),
                                               then its second pass (RepointPass, repoint.py)
       CrossCopyRun       cross_copy.py        a copy into another profile, engine-built (any mode)
       UndoRun            undo.py              deletes, children first, or Vault's cascade delete
"""

from __future__ import annotations

from typing import Protocol

from records.copying.clone import CloneRun
from records.copying.cross_copy import CrossCopyRun
from records.copying.engine_deep_copy import EngineDeepCopyRun
from records.copying.run_context import RunContext
from records.copying.undo import UndoRun
from records.copying.vault_deep_copy import VaultDeepCopyRun
from records.copying.ways import DeepCopyWay, deep_copy_way
from records.models import CopyJob


class CopyStrategy(Protocol):
    def run(self) -> None:
        """Run the job's rows to their end (or raise Paused, Cancelled, LeaseLost)."""


def strategy_for(context: RunContext) -> CopyStrategy:
    """The strategy for the job's mode and, for a deep copy, how it is made (ways.deep_copy_way)."""
    job = context.job
    if job.mode == CopyJob.Mode.UNDO:
        return UndoRun(context)
    if job.target_profile_id:
        return CrossCopyRun(context)  # read in the source, inserted in the target: engine-built
    if job.mode == CopyJob.Mode.CLONE:
        return CloneRun(context)
    if deep_copy_way(context.connector, context.options, job.object_name) == DeepCopyWay.SYSTEM:
        if context.masks.any_rules():
            raise CantMask(CANT_MASK)
        return VaultDeepCopyRun(context)
    return EngineDeepCopyRun(context)


class CantMask(Exception):
    """The job was planned as the system's own deep copy, and the profile's masking policy (set
    since) masks fields that copy can't: it would write them unmasked. Nothing is written."""


CANT_MASK = (
    "The profile's masking policy changed after this copy was planned: Vault's own deep copy can't mask "
    "the related records. Nothing was written; preview the copy again (it is then built level by level)."
)
