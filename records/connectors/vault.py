"""Veeva Vault connector: the one entry point (`REGISTRY` names `records.connectors.vault:VaultConnector`).

It checks the profile, builds the HTTP client, and hands each call of the `Connector` interface to
the part that knows it: `VaultApi` (session, one call, VQL paging), `VaultMetadata` (objects,
fields, related lists, the copy-key field), `VaultReads`, `VaultWrites` and `VaultJobs` (native
deep copy, cascade delete). Facts and sources: ../shared/api-notes/vault.md (section numbers
below refer to it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from records.connectors import vault_field_files
from records.connectors import vault_parse as vp
from records.connectors.attachments_part import DelegatedAttachments
from records.connectors.base import (
    CloneRequest,
    Connector,
    CopyKeyField,
    DeepCopyRow,
    FieldInfo,
    ObjectInfo,
    Page,
    ProfileConfig,
    Record,
    RelatedList,
    RemoteJob,
    TokenStore,
    UserInfo,
    WriteResult,
)
from records.connectors.budgets import BURST_WINDOW
from records.connectors.errors import ConfigurationError
from records.connectors.http import DEFAULT_TIMEOUT, HttpClient
from records.connectors.uploads import Source
from records.connectors.urls import check_base_url
from records.connectors.vault_api import VaultApi
from records.connectors.vault_field_files import VaultFieldFiles
from records.connectors.vault_files import VaultFiles
from records.connectors.vault_jobs import DEFAULT_POLL_INTERVAL, POLL_TIMES, PollTimes, VaultJobs
from records.connectors.vault_metadata import VaultMetadata
from records.connectors.vault_reads import VaultReads
from records.connectors.vault_writes import VaultWrites

# The newest Vault API release this app supports: what a new profile is given unless told
# otherwise, and what a profile without a version speaks.
LATEST_API_VERSION = "v26.3"
DEFAULT_API_VERSION = LATEST_API_VERSION
DEFAULT_CLIENT_ID = "recordcopier-app-server-copier"

_VERSION_RE = re.compile(r"\Av\d{1,2}\.\d{1,2}\Z")
_CLIENT_ID_BAD = re.compile(r"[^A-Za-z0-9._-]")  # §7.3 allowed characters
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]*")  # what quote(…, safe="") leaves as it is


class VaultConnector(DelegatedAttachments, Connector):
    files: VaultFiles  # its attachments part (DelegatedAttachments answers through it)

    system = "vault"
    batch_size = 500  # §4.1, §8.1
    clones_per_call = 500  # create with source_record_id, a batch a call
    native_deep_copy = True
    creates_from_source = True
    updates_records = True
    max_deep_copy_depth = 5
    name_fields = ("name__v",)
    copy_key_fields = ("copy_key__c",)
    user_object = vp.USER_OBJECT
    # An object type's id is one vault's own: a copy into another vault lets the target choose.
    org_specific_fields = frozenset({"object_type__v"})
    filter_syntax = "a VQL WHERE clause"
    filter_example = "status__v = 'active__v'"

    def __init__(
        self,
        config: ProfileConfig,
        tokens: TokenStore | None = None,
        *,
        client_id: str | None = None,
        poll_interval: float | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_attempts: int = 4,
        backoff: float = 0.5,
        burst_threshold: int | None = None,
        burst_pause: float = 0.5,
        burst_window: float = BURST_WINDOW,
        sleep: Callable[[float], None] = time.sleep,
        polls: PollTimes = POLL_TIMES,
    ):
        super().__init__(config, tokens)
        base = check_base_url(config.base_url, "vault", allow_loopback=config.allow_loopback)
        version = _checked_version(config)
        cid = client_id or config.client_id or DEFAULT_CLIENT_ID
        self.client_id = _CLIENT_ID_BAD.sub("-", cid)[:100]
        interval = poll_interval if poll_interval is not None else config.job_poll_seconds
        self.http = HttpClient(
            base,
            timeout=timeout,
            max_attempts=max_attempts,
            backoff=backoff,
            sleep=sleep,
            pool_size=max(2, config.concurrency * 2),
            headers={"X-VaultAPI-ClientID": self.client_id, "Accept": "application/json"},
        )
        self.api = VaultApi(
            config,
            self.tokens,
            self.http,
            base=base,
            version=version,
            burst_threshold=burst_threshold,
            burst_pause=burst_pause,
            sleep=sleep,
            burst_window=burst_window,
        )
        self.metadata = VaultMetadata(self.api)
        self.reads = VaultReads(self.api, self.metadata)
        self.writes = VaultWrites(self.api, batch_size=self.batch_size)
        poll_every = float(interval) if interval > 0 else DEFAULT_POLL_INTERVAL
        self.jobs = VaultJobs(self.api, poll_interval=poll_every, polls=polls, sleep=sleep)
        self.files = VaultFiles(self.api, self.metadata)
        self.field_files = VaultFieldFiles(self.api)

    def budget(self) -> dict[str, Any] | None:
        return self.api.budget.snapshot().as_dict()

    def __repr__(self) -> str:
        return f"VaultConnector(base={self.base!r}, version={self.version!r})"

    # The profile's checked settings, as the API part holds them; `version` may be changed on a
    # built connector (the next call speaks it).
    @property
    def base(self) -> str:
        return self.api.base

    @property
    def version(self) -> str:
        return self.api.version

    @version.setter
    def version(self, value: str) -> None:
        self.api.version = value

    def test_connection(self) -> str:
        _, session = self.api.write_session()
        name = vp.user_name(self.reads.users_me()) or self.config.username
        return f"Connected to Vault {session.vault_id} at {urlsplit(self.base).hostname} as {name}."

    def org_id(self) -> str:
        """The vault's id from the session (the login's `vaultId`): no call once logged in."""
        return self.api.write_session()[1].vault_id

    def clock_offset(self) -> dt.timedelta:
        return self.http.clock_offset()

    # -- metadata ---------------------------------------------------------------------------------
    def list_objects(self) -> list[ObjectInfo]:
        return self.metadata.list_objects()

    def describe(self, object_name: str) -> list[FieldInfo]:
        return self.metadata.describe(object_name)

    def describe_listed(self, object_name: str) -> list[FieldInfo]:
        return list(self.metadata.listed_fields(object_name).values())

    def object_info(self, object_name: str) -> ObjectInfo | None:
        return self.metadata.object_info(object_name)

    def _metadata(self, object_name: str) -> tuple[list[FieldInfo], dict[str, Any]]:
        """An object's fields and raw metadata (what tests read to see the relationships)."""
        return self.metadata.object(object_name)

    def related_lists(self, object_name: str) -> list[RelatedList]:
        return self.metadata.related_lists(object_name)

    def copy_key_definition(self, object_name: str) -> CopyKeyField:
        return self.metadata.copy_key_definition(object_name, self.copy_key_fields[0])

    def add_copy_key(self, object_name: str) -> str:
        return self.metadata.add_copy_key(object_name, self.copy_key_fields[0])

    # -- reading ----------------------------------------------------------------------------------
    def search(self, object_name: str, text: str = "", *, page: int = 1, per_page: int = 50) -> Page:
        return self.reads.search(object_name, text, page=page, per_page=per_page)

    def query_ids(self, object_name: str, where: str, *, limit: int) -> list[Record]:
        return self.reads.query_ids(object_name, where, limit=limit)

    def get(self, object_name: str, record_id: str) -> Record:
        return self.reads.get(object_name, record_id)

    def children(self, related: RelatedList, parent_ids: Sequence[str]) -> Iterator[Record]:
        return self.reads.children(related, parent_ids)

    def names(self, object_name: str, ids: Sequence[str]) -> dict[str, str]:
        return self.reads.names(object_name, ids)

    def holders(self, object_name: str, field_name: str, values: Sequence[str]) -> dict[str, str]:
        return self.reads.holders(object_name, field_name, values)

    def field_values(self, object_name: str, ids: Sequence[str], fields: Sequence[str]) -> dict[str, dict[str, Any]]:
        return self.reads.field_values(object_name, ids, fields)

    def match_ids(self, object_name: str, field: str, values: Sequence[str]) -> dict[str, list[str]]:
        return self.reads.match_ids(object_name, field, values)

    def stamps(self, object_name: str, ids: Sequence[str]) -> dict[str, Record]:
        return self.reads.stamps(object_name, ids)

    def find(
        self,
        object_name: str,
        equals: dict[str, str],
        *,
        created_since: dt.datetime | None = None,
        created_by: str = "",
    ) -> list[Record]:
        return self.reads.find(object_name, equals, created_since=created_since, created_by=created_by)

    def find_among(
        self,
        object_name: str,
        field: str,
        values: Sequence[str],
        *,
        also: Sequence[str] = (),
        created_since: dt.datetime | None = None,
        created_by: str = "",
    ) -> list[Record]:
        return self.reads.find_among(
            object_name, field, values, also=also, created_since=created_since, created_by=created_by
        )

    def api_user_id(self) -> str:
        return self.reads.api_user_id()

    def users(self) -> list[UserInfo]:
        return [UserInfo(**u) for u in self.reads.users()]

    # -- writing (the engine sets `automation` for a run; each write takes the current one) -------
    def clone(self, object_name: str, requests: Sequence[CloneRequest]) -> list[WriteResult]:
        return self.writes.clone(object_name, requests, self.automation)

    def create(self, object_name: str, rows: Sequence[dict[str, Any]]) -> list[WriteResult]:
        return self.writes.create(object_name, rows, self.automation)

    def update(self, object_name: str, rows: Sequence[dict[str, Any]]) -> list[WriteResult]:
        return self.writes.update(object_name, rows, self.automation)

    def delete(self, object_name: str, ids: Sequence[str]) -> list[WriteResult]:
        return self.writes.delete(object_name, ids)

    def duplicate_field(self, outcome: WriteResult) -> str:
        return self.writes.duplicate_field(outcome)

    def record_url(self, object_name: str, record_id: str) -> str:
        return f"{self.base}/ui/#object/{_quoted(object_name)}/{_quoted(str(record_id))}"

    # -- native deep copy and cascade delete (Vault's jobs) ---------------------------------------
    def start_deep_copy(self, object_name: str, record_id: str, overrides: dict[str, Any]) -> str:
        return self.jobs.start_deep_copy(object_name, record_id, overrides)

    def start_cascade_delete(self, object_name: str, record_id: str) -> str:
        return self.jobs.start_cascade_delete(object_name, record_id)

    def job_status(self, job_id: str) -> RemoteJob:
        return self.jobs.status(job_id)

    def deep_copy_results(self, object_name: str, job_id: str) -> list[DeepCopyRow]:
        return self.jobs.deep_copy_results(object_name, job_id)

    # -- attachments (vault_files.py) -------------------------------------------------------------
    def allows_attachments(self, object_name: str) -> bool:
        return self.files.allows_attachments(object_name)

    # -- Attachment fields (vault_field_files.py): set from a file-staging path -------------------
    supports_file_fields = True
    file_field_shows_upload_ids = False  # a read shows the file's name; the staged path is consumed

    def file_field_files(self, value: Any) -> list[tuple[str, str]]:
        return vault_field_files.field_files(value)

    def file_field_value(self, file_ids: list[str]) -> Any:
        return file_ids[-1] if file_ids else None  # an Attachment field holds one file

    def file_field_holds(self, value: Any, file_ids: list[str]) -> bool:
        return vault_field_files.holds(value, file_ids)

    def download_file_field(
        self, object_name: str, record_id: str, field_name: str, file_id: str
    ) -> contextlib.AbstractContextManager[Iterator[bytes]]:
        return self.field_files.download(object_name, record_id, field_name)

    def upload_file(self, stream: Source, name: str, size: int | None = None, *, key: str = "") -> str:
        return self.field_files.stage(stream, name, size, key)


def _checked_version(config: ProfileConfig) -> str:
    """The API version the profile speaks, once it and the credentials are checked."""
    version = config.api_version or DEFAULT_API_VERSION
    if not _VERSION_RE.match(version):
        raise ConfigurationError("The API version must look like v25.2.", error_type="INVALID_VERSION")
    if not config.username or not config.secret:
        raise ConfigurationError("The profile needs a user name and a password.", error_type="MISSING_CREDENTIALS")
    return version


def _quoted(text: str) -> str:
    """`quote(text, safe="")`, without its work for a Vault id or name (letters, digits, "_"):
    a run links every row it writes, 5,000 for a bulk clone."""
    return text if _UNQUOTED.fullmatch(text) else quote(text, safe="")
