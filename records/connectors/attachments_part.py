"""The attachment calls of a connector whose `files` part speaks them (vault_files.py,
zoho_files.py): one delegation for both systems, so the connectors hold only what differs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Protocol

from records.connectors.uploads import Source
from records.connectors.values import Attachment


class FilesPart(Protocol):
    def attachments(self, object_name: str, record_id: str) -> list[Attachment]: ...

    def download(
        self, object_name: str, record_id: str, attachment_id: str
    ) -> contextlib.AbstractContextManager[Iterator[bytes]]: ...

    def upload(self, object_name: str, record_id: str, name: str, stream: Source, size: int | None) -> str: ...

    def delete(self, object_name: str, record_id: str, attachment_id: str) -> None: ...


class DelegatedAttachments:
    """Mixed in before Connector: its attachment methods answered by `self.files`."""

    files: FilesPart

    def attachments(self, object_name: str, record_id: str) -> list[Attachment]:
        return self.files.attachments(object_name, record_id)

    def download_attachment(
        self, object_name: str, record_id: str, attachment_id: str
    ) -> contextlib.AbstractContextManager[Iterator[bytes]]:
        return self.files.download(object_name, record_id, attachment_id)

    def upload_attachment(
        self, object_name: str, record_id: str, name: str, stream: Source, size: int | None = None
    ) -> str:
        return self.files.upload(object_name, record_id, name, stream, size)

    def delete_attachment(self, object_name: str, record_id: str, attachment_id: str) -> None:
        self.files.delete(object_name, record_id, attachment_id)
