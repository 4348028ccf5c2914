"""FileResult writes, fenced as every row write of a run: only while the run's lease generation
holds the job (else LeaseLost and nothing lands)."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Iterator
from typing import IO

from django.utils import timezone

from records.connectors.uploads import seekable_source
from records.copying.lifecycle import Fence, LeaseLost
from records.models import FileResult


class Md5Chunks:
    """The download's chunks, passed on as they come, their MD5 taken on the way (the checksum)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = chunks
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.md5.update(chunk)
            self.size += len(chunk)
            yield chunk


@contextlib.contextmanager
def downloaded(download: contextlib.AbstractContextManager[Iterator[bytes]]) -> Iterator[tuple[IO[bytes], Md5Chunks]]:
    """A download's bytes in a temporary file on disk (its MD5 and size on the way), the download's
    call ended before the caller uploads them: a Zoho download holds one of the profile's
    concurrency slots while it streams and an upload needs one, so with a single slot (or every
    slot held by a download) an upload inside the download would wait for ever."""
    with contextlib.ExitStack() as spooled:
        with download as chunks:
            counted = Md5Chunks(chunks)
            spool, _ = spooled.enter_context(seekable_source(counted, None))
        yield spool, counted


def save(fence: Fence, file: FileResult, **values: object) -> None:
    for name, value in values.items():
        setattr(file, name, value)
    updated = FileResult.objects.filter(
        pk=file.pk, job__pk=fence.job_id, job__lease_generation=fence.generation
    ).update(**values, updated=timezone.now())
    if updated != 1:
        raise LeaseLost


def mark_sending(fence: Fence, file: FileResult) -> None:
    """Committed before the upload: a row left SENDING is reconciled, never sent again blindly."""
    save(fence, file, status=FileResult.Status.SENDING, attempts=file.attempts + 1, sending_at=timezone.now())
