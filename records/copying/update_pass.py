"""A copy into another profile that updates the records it found there: only the fields whose
values differ are sent, the replaced values kept on the row for undo."""

from __future__ import annotations

from records.copying.run_context import RunContext


class UpdatePass:
    def __init__(self, context: RunContext) -> None:
        self.context = context

    def run(self, root_id: str) -> None:
        """Update the tree's rows with action "update"."""
