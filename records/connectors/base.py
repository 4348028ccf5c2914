"""The one small interface every external system implements and its value types (its errors are
in errors.py).

The copy engine, views and commands see only this module. Each system lives in its own module
(`vault.py`, `zoho.py` and the modules they are built from); `http.py` is the only place that
imports `requests`.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from records.connectors.errors import Rejected
from records.connectors.one_by_one import field_values_one_by_one, find_among_one_by_one, names_one_by_one
from records.connectors.uploads import Source
from records.connectors.values import (
    Attachment as Attachment,
)
from records.connectors.values import (
    CloneRequest as CloneRequest,
)
from records.connectors.values import (
    CopyKeyField as CopyKeyField,
)
from records.connectors.values import (
    DeepCopyRow as DeepCopyRow,
)
from records.connectors.values import (
    FieldInfo as FieldInfo,
)
from records.connectors.values import (  # the value types, re-exported: callers import them from here
    FieldType as FieldType,
)
from records.connectors.values import (
    ObjectInfo as ObjectInfo,
)
from records.connectors.values import (
    Page as Page,
)
from records.connectors.values import (
    Record as Record,
)
from records.connectors.values import (
    RelatedList as RelatedList,
)
from records.connectors.values import (
    RemoteJob as RemoteJob,
)
from records.connectors.values import (
    UserInfo as UserInfo,
)
from records.connectors.values import (
    WriteResult as WriteResult,
)

# Logs in / refreshes: returns (token, expires_at).
Mint = Callable[[], tuple[str, dt.datetime]]


class BulkLedger(Protocol):
    """Where a bulk write's job id is kept before the job is polled: durable, one id per key, so
    a crashed run finds its job again and never makes a second (zoho_bulk.py)."""

    def job_id(self, key: str) -> str | None: ...

    def save(self, key: str, job_id: str) -> None: ...


class TokenStore(Protocol):
    """Where a profile's session id / access token is cached, shared by every worker."""

    def get(self) -> tuple[str, dt.datetime | None]:
        """Return (token, expires_at); ("", None) when none is cached."""

    def refresh(self, stale: str, mint: Mint) -> str:
        """Under a lock: if the cached token is still `stale`, call `mint()` -> (token, expires_at)
        and store it; return the current token. Workers racing to refresh mint only once."""


class MemoryTokenStore:
    """A per-process TokenStore for tests and scripts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: str = ""
        self._expires: dt.datetime | None = None

    def get(self) -> tuple[str, dt.datetime | None]:
        return self._token, self._expires

    def refresh(self, stale: str, mint: Mint) -> str:
        with self._lock:
            if self._token == stale or not self._token:
                self._token, self._expires = mint()
            return self._token


@dataclass
class ProfileConfig:
    system: str
    base_url: str
    username: str  # Vault user name / Zoho client id
    secret: str = ""  # Vault password / Zoho client secret
    accounts_url: str = ""
    api_version: str = ""
    refresh_token: str = ""
    concurrency: int = 5
    allow_loopback: bool = False
    name: str = ""
    # Vault: X-VaultAPI-ClientID sent on every call, and the least time between two status calls
    # of one job (settings.VAULT_CLIENT_ID / VAULT_JOB_POLL_SECONDS; 0 means the connector default).
    client_id: str = ""
    job_poll_seconds: float = 0.0

    def __repr__(self) -> str:  # keep secrets out of tracebacks and logs
        return f"ProfileConfig(system={self.system!r}, base_url={self.base_url!r}, name={self.name!r})"


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Automation:
    """What a copy's writes set off. The defaults are what copies always did: Zoho
    inserts with `trigger: []`, clones start cadences as Zoho does by default."""

    skip_cadences: bool = False  # Zoho clone and insert: skip_feature_execution [{"name": "cadences"}]
    run_workflows: bool = False  # Zoho insert: omit `trigger: []`, so workflows etc. fire
    migration_mode: bool = False  # Vault create: X-VaultAPI-MigrationMode (Record Migration permission)
    no_triggers: bool = False  # Vault create: X-VaultAPI-NoTriggers (only with migration mode)


class Connector(abc.ABC):
    system: str = ""
    # Set by the engine for one run (a connector serves one job at a time).
    automation: Automation = Automation()
    # Rows per create/clone/delete call: Vault 500, Zoho 100.
    batch_size: int = 100
    # Records per clone call (the system's own copy): Zoho's clone action copies one record.
    clones_per_call: int = 1
    # A deep copy of more related records than this is refused before anything is queued.
    max_deep_copy_records: int = 10_000
    # The system copies hierarchies itself (Vault); otherwise the engine builds the deep copy.
    native_deep_copy: bool = False
    # A create row may carry `source_record_id` (Vault): the system copies the source's values
    # (honouring no_copy) and the row holds only what changes. The engine-built copy uses it.
    creates_from_source: bool = False
    # The system updates records in batches (`update`): the engine-built copy then re-points
    # references to records created in the same wave or later by a second pass (copying/repoint.py).
    updates_records: bool = False
    # What the copy engine must know of the system, declared here so that the engine names no
    # system's fields. Levels below the top record a deep copy follows:
    max_deep_copy_depth: int = 2
    # Fields an insert built from a source record never carries (set by the system), and those a
    # subform row never carries:
    system_fields: frozenset[str] = frozenset()
    subform_row_system_fields: frozenset[str] = frozenset()
    # The record name fields, in order: how a copy whose answer was lost is found without a copy key.
    name_fields: tuple[str, ...] = ()
    # Fields that may hold the copy key (settings.COPY_KEY_FIELDS, when set, wins).
    copy_key_fields: tuple[str, ...] = ()
    # Values of a record, not described fields, that name a polymorphic reference's object
    # (reference_target reads them): kept with the references when a plan compacts its records.
    reference_target_keys: tuple[str, ...] = ()
    # Copies into another profile (copying/cross_plan.py). The object user fields refer to:
    user_object: str = ""
    # A referenced record is matched in the other profile by its name even when the name field is
    # not unique (Zoho: a module's name field is how people tell records apart there).
    match_by_name: bool = False
    # Fields whose values are ids of one org's own configuration (layouts, object types): never carried.
    org_specific_fields: frozenset[str] = frozenset()
    # A copy by query (query_ids): what its filter is written in, and an example, as pages show them.
    filter_syntax: str = "a filter"
    filter_example: str = ""

    def insert_extras(self, source_fields: dict[str, Any]) -> dict[str, Any]:
        """Keys an insert copies from the source record beyond its fields (Zoho: `$se_module`)."""
        return {}

    def __init__(self, config: ProfileConfig, tokens: TokenStore | None = None):
        self.config = config
        self.tokens = tokens or MemoryTokenStore()

    # -- reading ------------------------------------------------------------------------------
    @abc.abstractmethod
    def test_connection(self) -> str:
        """Authenticate and make one cheap call; return a one-line description. Raise on failure."""

    def org_id(self) -> str:
        """The id of the org or vault the profile reaches, as the system names it ("" when it
        doesn't say): two profiles with the same one reach the same records (copying/known.py)."""
        return ""

    @abc.abstractmethod
    def list_objects(self) -> list[ObjectInfo]: ...

    def object_info(self, object_name: str) -> ObjectInfo | None:
        """One object's labels (None: the system lists no such object). From the object list,
        unless the system gives them with the object's own metadata (Vault), read with its fields."""
        return next((o for o in self.list_objects() if o.name == object_name), None)

    @abc.abstractmethod
    def describe(self, object_name: str) -> list[FieldInfo]: ...

    def describe_listed(self, object_name: str) -> list[FieldInfo]:
        """The object's fields as describe() gives them, but for the values of its picklists where
        those are calls of their own (Vault): for what needs the names, types and labels only (a
        query's columns, a job's field labels), read ahead of need without the picklists' round."""
        return self.describe(object_name)

    @abc.abstractmethod
    def related_lists(self, object_name: str) -> list[RelatedList]:
        """Child relationships of `object_name` (those a deep copy follows have deep_copy=True)."""

    @abc.abstractmethod
    def search(self, object_name: str, text: str = "", *, page: int = 1, per_page: int = 50) -> Page:
        """Find records whose id equals `text` or whose name contains it; all when text is empty."""

    @abc.abstractmethod
    def get(self, object_name: str, record_id: str) -> Record: ...

    @abc.abstractmethod
    def children(self, related: RelatedList, parent_ids: Sequence[str]) -> Iterator[Record]:
        """Every record of `related.child_object` whose `parent_field` is one of `parent_ids`,
        all pages, with the fields needed to copy it (and `parent_field`)."""

    def names(self, object_name: str, ids: Sequence[str]) -> dict[str, str]:
        """{id: display name} of the records found among `ids` (ids not found are left out), in as
        few calls as the system allows. This default reads one record a call; connectors batch."""
        return names_one_by_one(self.get, object_name, ids)

    def holders(self, object_name: str, field_name: str, values: Sequence[str]) -> dict[str, str]:
        """{value: the name (or id) of a record holding it} for the `values` some record of
        `object_name` has in `field_name` already (a unique field's value a copy can't take). This
        default asks one find a value; connectors batch."""
        out: dict[str, str] = {}
        for value in dict.fromkeys(values):
            found = self.find(object_name, {field_name: value})
            if found:
                out[value] = found[0].name or found[0].id
        return out

    def field_values(self, object_name: str, ids: Sequence[str], fields: Sequence[str]) -> dict[str, dict[str, Any]]:
        """{id: {field: value}} of the records found among `ids`, the named fields only (a preview
        renders every record's value templates with them), in as few calls as the system allows.
        This default reads one record a call; connectors batch."""
        return field_values_one_by_one(self.get, object_name, ids, fields)

    @abc.abstractmethod
    def find(
        self,
        object_name: str,
        equals: dict[str, str],
        *,
        created_since: dt.datetime | None = None,
        created_by: str = "",
    ) -> list[Record]:
        """Records whose fields equal the given values (reconciliation after a lost answer), with
        their `created`, `modified` and `created_by` set. `created_since` (UTC, on the remote's
        clock) keeps only records created at or after it; `created_by` only those that user
        created. `equals` may be empty when one of the other two is given."""

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
        """Records whose `field` equals one of `values` (with find's other conditions), each with
        `field` and the `also` fields in its fields: a batch of lost answers looked for at once
        (reconcile.py narrows them to each row's values), in as few calls as the system allows.
        This default asks `find` once per value (its answer carries the field); connectors batch."""
        return find_among_one_by_one(self.find, object_name, field, values, created_since, created_by)

    def stamps(self, object_name: str, ids: Sequence[str]) -> dict[str, Record]:
        """{id: Record with created, modified and created_by} of the records found among `ids`,
        in as few calls as the system allows (undo reads these before it deletes anything)."""
        raise NotImplementedError

    def match_ids(self, object_name: str, field: str, values: Sequence[str]) -> dict[str, list[str]]:
        """{value: [ids of the records whose `field` equals it]} for each of `values` found, in as few
        calls as the system allows (a copy into another profile finds the records its references
        point at). This default asks `find` once per value; connectors batch."""
        out: dict[str, list[str]] = {}
        for value in dict.fromkeys(str(v) for v in values if v not in (None, "")):
            found = [r.id for r in self.find(object_name, {field: value})]
            if found:
                out[value] = found
        return out

    def reference_target(self, info: FieldInfo, fields: dict[str, Any]) -> str:
        """The object a reference field of a record with these `fields` points at: the field's own
        target, or for a polymorphic one (Zoho What_Id) the one the record names."""
        return info.reference_to

    def users(self) -> list[UserInfo]:
        """Every user of the system with their e-mail (users are mapped between profiles by e-mail)."""
        raise NotImplementedError

    def query_ids(self, object_name: str, where: str, *, limit: int) -> list[Record]:
        """The records matching a user's filter (Vault VQL WHERE, Zoho criteria), newest first,
        at most `limit` (copy by query)."""
        raise NotImplementedError

    def api_user_id(self) -> str:
        """The id of the user this profile's calls run as (Vault `users/me`, Zoho
        `GET /users?type=CurrentUser`), read once per connector."""
        raise NotImplementedError

    def clock_offset(self) -> dt.timedelta:
        """The remote's clock minus ours, from the `Date` header of the latest answer (zero before
        any answer): a lost write's "created at or after" bound is taken on the remote's clock."""
        return dt.timedelta(0)

    def level_paths(self, object_name: str, *, rows: int, parents: int) -> dict[str, Any] | None:
        """How a level of `rows` records of `object_name` (children of `parents` records) would be
        read and written, when the system has more than one way: {"read": choice, "write": choice},
        each {path, why, ...} (Zoho: COQL or Bulk Read, inserts or Bulk Write). None: one way."""
        return None

    # A system with a bulk insert job takes this many rows a job (0: none).
    bulk_batch_size = 0

    def bulk_create(
        self, object_name: str, rows: Sequence[dict[str, Any]], *, ledger: BulkLedger, ledger_key: str
    ) -> list[WriteResult]:
        """Insert `rows` (each with its copy key) in one bulk job, its id kept in `ledger` under
        `ledger_key` before it is polled (a job already there is finished, never made again); one
        outcome per row, in order. OutcomeUnknown: some rows may exist (found by copy key)."""
        raise NotImplementedError

    def bulk_results(self, object_name: str, job_id: str) -> dict[str, WriteResult]:
        """A stored bulk job's outcomes by copy key (waiting for it to end)."""
        raise NotImplementedError

    def budget(self) -> dict[str, Any] | None:
        """The call budget the latest answers reported (budgets.Snapshot.as_dict: kind,
        remaining, limit, checked_at, wait_until), None when the system reports none."""
        return None

    # -- writing ------------------------------------------------------------------------------
    @abc.abstractmethod
    def clone(self, object_name: str, requests: Sequence[CloneRequest]) -> list[WriteResult]:
        """Copy each source record with its overrides using the system's own copy
        (Vault: create with source_record_id, 500 per call; Zoho: the clone action, one per call).
        Results in input order. Raises OutcomeUnknown if an answer was lost."""

    @abc.abstractmethod
    def create(self, object_name: str, rows: Sequence[dict[str, Any]]) -> list[WriteResult]:
        """Insert rows in batches of `batch_size`; results in input order."""

    @abc.abstractmethod
    def delete(self, object_name: str, ids: Sequence[str]) -> list[WriteResult]: ...

    def update(self, object_name: str, rows: Sequence[dict[str, Any]]) -> list[WriteResult]:
        """Set fields of existing records (each row has "id"), `batch_size` a call; results in input
        order. The engine-built copy's second pass (copying/repoint.py) sets references with it."""
        raise NotImplementedError

    def reference_value(self, record_id: str) -> Any:
        """How a write sets a reference field to `record_id` (Vault: the id itself; Zoho: {"id": ...})."""
        return record_id

    def duplicate_field(self, outcome: WriteResult) -> str:
        """The field a write was refused for as a duplicate value, or "" ("make unique" retries on it)."""
        return ""

    @abc.abstractmethod
    def record_url(self, object_name: str, record_id: str) -> str:
        """A link a person can open to see the record in the system's own UI."""

    # -- Vault only ---------------------------------------------------------------------------
    def start_deep_copy(self, object_name: str, record_id: str, overrides: dict[str, Any]) -> str:
        raise NotImplementedError

    def job_status(self, job_id: str) -> RemoteJob:
        raise NotImplementedError

    def deep_copy_results(self, object_name: str, job_id: str) -> list[DeepCopyRow]:
        raise NotImplementedError

    def start_cascade_delete(self, object_name: str, record_id: str) -> str:
        raise NotImplementedError

    # -- the copy-key field, offered to staff (records.profiles.copy_keys.profile_add_copy_keys) ----------------
    def copy_key_definition(self, object_name: str) -> CopyKeyField:
        """What `add_copy_key(object_name)` would create, to be shown before it is created. Raises
        NotFound for an unknown object and Rejected (error_type ALREADY_EXISTS) when the object
        already has the field. One describe, nothing written."""
        raise NotImplementedError

    def add_copy_key(self, object_name: str) -> str:
        """Create the copy-key field on `object_name` through the system's documented metadata API
        and return the name it got. Raises Rejected with a message saying why it was refused (no
        permission, the field is already there); after a lost answer the metadata is read again
        and the field, if there, is the answer."""
        raise NotImplementedError

    # -- files (docs/files-api.md): streamed, never a whole file in memory ---------------------------
    def allows_attachments(self, object_name: str) -> bool:
        """Whether records of the object can have attachments (Vault `allow_attachments`)."""
        return False

    def attachments(self, object_name: str, record_id: str) -> list[Attachment]:
        """The record's attachments (their latest versions), oldest first."""
        raise _unsupported("attachments")

    def download_attachment(
        self, object_name: str, record_id: str, attachment_id: str
    ) -> contextlib.AbstractContextManager[Iterator[bytes]]:
        """`with c.download_attachment(...) as chunks:` the file's bytes, a chunk at a time, read
        from the wire as they are consumed; the connection is released when the block ends."""
        raise _unsupported("attachments")

    def upload_attachment(
        self, object_name: str, record_id: str, name: str, stream: Source, size: int | None = None
    ) -> str:
        """Attach a file to the record and return the new attachment's id. `stream`: a binary file
        or an iterable of byte chunks, read a block at a time (copied to a temporary file on disk
        first when it cannot be rewound or its size is unknown). A create: a lost answer raises
        OutcomeUnknown and is never sent again here (find it by name, size and creation time)."""
        raise _unsupported("attachments")

    def delete_attachment(self, object_name: str, record_id: str, attachment_id: str) -> None:
        """Delete the attachment (all its versions). NotFound when it is not there."""
        raise _unsupported("attachments")

    def upload_file(self, stream: Source, name: str, size: int | None = None, *, key: str = "") -> str:
        """Upload a file for a file or image field and return the id the field takes (Zoho Files
        API: `File_Id__s`; Vault: the file-staging path). `key`: the caller's own name for this
        file, the same on every retry (Vault stages the file at a path made from it, so sending it
        again replaces it rather than adding one)."""
        raise _unsupported("file uploads")

    # A file field's value is the system's own shape: these read and build it, so the engine
    # names no system's keys.
    supports_file_fields = False
    # Whether a file field's value, read back, holds the ids upload_file returned (Zoho), or only
    # the file's name (Vault: the staging path is consumed): then a file there can't be told from
    # one someone else put there, so the copy sets such a field only on records it created.
    file_field_shows_upload_ids = True

    def file_field_holds(self, value: Any, file_ids: list[str]) -> bool:
        """Whether a file field's value (as read) is what setting it to these uploads made."""
        held = {fid for fid, _ in self.file_field_files(value)}
        return bool(held) and set(file_ids) <= held

    def file_field_files(self, value: Any) -> list[tuple[str, str]]:
        """(file id, file name) of each file a file field's value holds."""
        return []

    def file_field_value(self, file_ids: list[str]) -> Any:
        """The value that sets a file field to these uploaded files (upload_file's ids)."""
        raise _unsupported("file fields")

    def file_field_sizes(self, value: Any) -> list[int | None]:
        """The size in bytes of each file a file field's value holds (file_field_files' order), None
        where the value does not say: the preview sizes them from the records it read."""
        return [None for _ in self.file_field_files(value)]

    def download_file_field(
        self, object_name: str, record_id: str, field_name: str, file_id: str
    ) -> contextlib.AbstractContextManager[Iterator[bytes]]:
        """The bytes of one file held by a file field (Zoho: the value's `File_Id__s`)."""
        raise _unsupported("file fields")


def _unsupported(what: str) -> Rejected:
    return Rejected(f"This system's connector does not support {what}.", error_type="NOT_SUPPORTED")
