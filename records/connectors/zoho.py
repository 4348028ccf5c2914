"""Zoho CRM connector: the one entry point (`REGISTRY` names `records.connectors.zoho:ZohoConnector`).

It checks the profile, builds the HTTP client and the concurrency gate, and hands each call of the
`Connector` interface to the part that knows it: `ZohoApi` (OAuth, one call), `ZohoMetadata`
(modules, fields, related lists, the copy-key field), `ZohoReads` and `ZohoWrites`. Facts and
sources: ../shared/api-notes/zoho.md (section numbers below refer to it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from records.connectors import zoho_parse as zp
from records.connectors.attachments_part import DelegatedAttachments
from records.connectors.base import (
    BulkLedger,
    CloneRequest,
    Connector,
    CopyKeyField,
    FieldInfo,
    ObjectInfo,
    Page,
    ProfileConfig,
    Record,
    RelatedList,
    TokenStore,
    UserInfo,
    WriteResult,
)
from records.connectors.errors import ConfigurationError, OutcomeUnknown
from records.connectors.http import HttpClient
from records.connectors.slots import profile_gate
from records.connectors.uploads import Source
from records.connectors.urls import check_base_url, zoho_accounts_for
from records.connectors.zoho_api import DEFAULT_API_VERSION, ZohoApi
from records.connectors.zoho_bulk import WRITE_ROWS_MAX, BulkRow, Pending, ZohoBulk
from records.connectors.zoho_bulk_costs import ASSUMED_LATENCY, insert_choice, read_choice
from records.connectors.zoho_bulk_reads import BulkLevels
from records.connectors.zoho_files import ZohoFiles
from records.connectors.zoho_metadata import ZohoMetadata
from records.connectors.zoho_reads import ZohoReads
from records.connectors.zoho_writes import WRITE_BATCH, ZohoWrites


class ZohoConnector(DelegatedAttachments, Connector):
    files: ZohoFiles  # its attachments part (DelegatedAttachments answers through it)

    system = "zoho"
    batch_size = WRITE_BATCH
    native_deep_copy = False
    updates_records = True
    max_deep_copy_depth = 2
    system_fields = frozenset(
        {
            "id",
            "Created_By",
            "Modified_By",
            "Created_Time",
            "Modified_Time",
            "Last_Activity_Time",
            "Tag",
            "Record_Image",
            "Unsubscribed_Time",
            "Unsubscribed_Mode",
            "Locked__s",
        }
    )
    subform_row_system_fields = frozenset(
        {"id", "Parent_Id", "Created_By", "Modified_By", "Created_Time", "Modified_Time"}
    )
    name_fields = ("Account_Name", "Deal_Name", "Last_Name", "Subject", "Note_Title", "Full_Name")
    copy_key_fields = ("Copy_Key",)
    reference_target_keys = ("$se_module",)
    user_object = "Users"
    match_by_name = True
    filter_syntax = "Zoho search criteria (run exactly: equals is equal)"
    filter_example = "(Account_Name:equals:Acme)"
    # A layout's id is one org's own: a copy into another org takes the target's default layout.
    org_specific_fields = frozenset({"Layout"})

    def insert_extras(self, source_fields: dict[str, Any]) -> dict[str, Any]:
        # Tasks' What_Id points into the module $se_module names: an insert must say which.
        if source_fields.get("What_Id") and "$se_module" in source_fields:
            return {"$se_module": source_fields["$se_module"]}
        return {}

    # Zoho throttles with 429 (concurrency or credits); back off with jitter, ~1+2+4+8 s at most,
    # then report RateLimited so the engine can pause the job instead of hammering the org.
    max_attempts = 5
    backoff = 1.0
    max_backoff = 20.0
    timeout = (5.0, 60.0)

    # connector_for passes this connector a Redis connection (`redis=`, the django-rq one) for
    # the profile's shared concurrency slots; without one the limit holds per process only.
    shared_slots = True

    def __init__(self, config: ProfileConfig, tokens: TokenStore | None = None, *, redis: Any = None):
        super().__init__(config, tokens)
        loopback = config.allow_loopback
        api_domain = check_base_url(config.base_url, "zoho_api", allow_loopback=loopback)
        accounts = config.accounts_url or zoho_accounts_for(api_domain)
        accounts_url = check_base_url(accounts, "zoho_accounts", allow_loopback=loopback)
        if not (config.username and config.secret and config.refresh_token):
            raise ConfigurationError(
                "A Zoho profile needs a client id, a client secret and a refresh token.",
                error_type="MISSING_CREDENTIALS",
            )
        version = config.api_version or DEFAULT_API_VERSION
        zp.check_name(version)
        self.http = HttpClient(
            api_domain,
            other_origins=(accounts_url,),
            timeout=self.timeout,
            max_attempts=self.max_attempts,
            backoff=self.backoff,
            max_backoff=self.max_backoff,
            pool_size=max(10, config.concurrency),
        )
        key = (api_domain, config.username, hashlib.sha256(config.refresh_token.encode()).hexdigest()[:16])
        # A slot's lease: twice the read timeout. A live holder's lease is renewed while its call
        # (retries included) runs; a dead worker's slot is free again after at most this long.
        self._slots = profile_gate(key, config.concurrency, redis, lease=2 * self.timeout[1])
        self.api = ZohoApi(
            config,
            self.tokens,
            self.http,
            self._slots,
            api_domain=api_domain,
            accounts_url=accounts_url,
            version=version,
        )
        self.metadata = ZohoMetadata(self.api, concurrency=config.concurrency)
        self.reads = ZohoReads(self.api, self.metadata, concurrency=config.concurrency)
        self.writes = ZohoWrites(self.api, self.reads, concurrency=config.concurrency)
        self.files = ZohoFiles(self.api)
        self.bulk = ZohoBulk(self.api, org_id=self.reads.org_zgid, match_ids=self.reads.match_ids)
        # A level too large for one COQL page is read by Bulk Read when the rule says so.
        self.bulk_levels = BulkLevels(self.reads, self.bulk, concurrency=config.concurrency)
        self.reads.large_level = self.bulk_levels

    def budget(self) -> dict[str, Any] | None:
        return self.api.budget.snapshot().as_dict()

    # -- bulk jobs (zoho_bulk.py; the rule choosing them: zoho_bulk_costs.py) -------------------
    def level_paths(self, object_name: str, *, rows: int, parents: int) -> dict[str, Any] | None:
        # The read: what the tree's read took where a page said more followed (counted, weighed),
        # else the rule at the level's size (one COQL page each chunk: COQL).
        concurrency = max(1, self.config.concurrency)
        terms = self.bulk_levels.terms
        weighed = read_choice(rows, parents, latency=ASSUMED_LATENCY, concurrency=concurrency, terms=terms)
        return {
            "read": self.bulk_levels.taken.get(object_name) or weighed.as_dict(),
            "write": insert_choice(rows, latency=ASSUMED_LATENCY, concurrency=concurrency).as_dict(),
        }

    def bulk_read(
        self, object_name: str, fields: Sequence[str], *, field: str, values: Sequence[str]
    ) -> Iterator[dict[str, str]]:
        return self.bulk.read(object_name, fields, field=field, values=values)

    bulk_batch_size = WRITE_ROWS_MAX

    def bulk_insert(
        self, object_name: str, rows: Sequence[dict[str, Any]], *, ledger: BulkLedger, ledger_key: str
    ) -> list[BulkRow]:
        key_field = self.copy_key_fields[0] if any(self.copy_key_fields[0] in r for r in rows) else ""
        return self.bulk.insert(object_name, rows, key_field=key_field, ledger=ledger, ledger_key=ledger_key)

    def bulk_create(
        self, object_name: str, rows: Sequence[dict[str, Any]], *, ledger: BulkLedger, ledger_key: str
    ) -> list[WriteResult]:
        done = self.bulk_insert(object_name, rows, ledger=ledger, ledger_key=ledger_key)
        if not all(r.sent for r in done):
            # The job's create answer was lost and not every row turned up by its copy key: the
            # engine reconciles by copy key and sends only what it does not find.
            raise OutcomeUnknown("Zoho's bulk write job was not found for every record.", error_type="BULK_LOST")
        return [_bulk_outcome(r) for r in done]

    def bulk_results(self, object_name: str, job_id: str) -> dict[str, WriteResult]:
        done = self.bulk.finish(Pending(job_id, (), self.copy_key_fields[0]))
        return {r.key: _bulk_outcome(r) for r in done if r.key}

    def __repr__(self) -> str:
        return f"ZohoConnector(api_domain={self.api_domain!r}, name={self.config.name!r})"

    # The profile's checked settings, as the API part holds them.
    @property
    def api_domain(self) -> str:
        return self.api.api_domain

    @property
    def accounts_url(self) -> str:
        return self.api.accounts_url

    @property
    def api_version(self) -> str:
        return self.api.version

    def _token(self) -> str:
        """A valid access token, minted if needed (lets a caller mint before timing its calls)."""
        return self.api.token()

    def test_connection(self) -> str:
        modules = self.metadata.modules()
        host = urlsplit(self.api_domain).netloc
        return f"Zoho CRM at {host} (API {self.api_version}): {len(modules)} modules available."

    def org_id(self) -> str:
        return self.reads.org_id()

    def clock_offset(self) -> dt.timedelta:
        return self.http.clock_offset()

    # -- metadata ------------------------------------------------------------------------------
    def list_objects(self) -> list[ObjectInfo]:
        return self.metadata.list_objects()

    def describe(self, object_name: str) -> list[FieldInfo]:
        return self.metadata.describe(object_name)

    def related_lists(self, object_name: str) -> list[RelatedList]:
        return self.metadata.related_lists(object_name)

    def copy_key_definition(self, object_name: str) -> CopyKeyField:
        return self.metadata.copy_key_definition(object_name, self.copy_key_fields[0])

    def add_copy_key(self, object_name: str) -> str:
        return self.metadata.add_copy_key(object_name, self.copy_key_fields[0])

    # -- reading -------------------------------------------------------------------------------
    def search(self, object_name: str, text: str = "", *, page: int = 1, per_page: int = 50) -> Page:
        return self.reads.search(object_name, text, page=page, per_page=per_page)

    def query_ids(self, object_name: str, where: str, *, limit: int) -> list[Record]:
        return self.reads.query_ids(object_name, where, limit=limit)

    def get(self, object_name: str, record_id: str) -> Record:
        return self.reads.get(object_name, record_id)

    def names(self, object_name: str, ids: Sequence[str]) -> dict[str, str]:
        return self.reads.names(object_name, ids)

    def holders(self, object_name: str, field_name: str, values: Sequence[str]) -> dict[str, str]:
        return self.reads.holders(object_name, field_name, values)

    def field_values(self, object_name: str, ids: Sequence[str], fields: Sequence[str]) -> dict[str, dict[str, Any]]:
        return self.reads.field_values(object_name, ids, fields)

    def match_ids(self, object_name: str, field: str, values: Sequence[str]) -> dict[str, list[str]]:
        return self.reads.match_ids(object_name, field, values)

    def reference_target(self, info: FieldInfo, fields: dict[str, Any]) -> str:
        # §5.2: What_Id's lookup module is the placeholder "se_module"; the record's $se_module says which.
        if info.reference_to == "se_module":
            return str(fields.get("$se_module") or "")
        return info.reference_to

    def stamps(self, object_name: str, ids: Sequence[str]) -> dict[str, Record]:
        return self.reads.stamps(object_name, ids)

    def children(self, related: RelatedList, parent_ids: Sequence[str]) -> Iterator[Record]:
        return self.reads.children(related, parent_ids)

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

    # -- writing (the engine sets `automation` for a run; each write takes the current one) ----
    def clone(self, object_name: str, requests: Sequence[CloneRequest]) -> list[WriteResult]:
        return self.writes.clone(object_name, requests, self.automation)

    def create(self, object_name: str, rows: Sequence[dict[str, Any]]) -> list[WriteResult]:
        return self.writes.create(object_name, rows, self.automation)

    def update(self, object_name: str, rows: Sequence[dict[str, Any]]) -> list[WriteResult]:
        return self.writes.update(object_name, rows, self.automation)

    def delete(self, object_name: str, ids: Sequence[str]) -> list[WriteResult]:
        return self.writes.delete(object_name, ids)

    def duplicate_field(self, outcome: WriteResult) -> str:
        # §3.1: DUPLICATE_DATA names the clashing field in details.api_name.
        return outcome.field if outcome.error_type == "DUPLICATE_DATA" else ""

    def reference_value(self, record_id: str) -> Any:
        return {"id": record_id}  # §3.1: a lookup is written as {"id": ...}

    def record_url(self, object_name: str, record_id: str) -> str:
        parts = urlsplit(self.api_domain)
        host = parts.hostname or ""
        path = f"/crm/tab/{quote(object_name, safe='')}/{quote(str(record_id), safe='')}"
        if ".zohoapis." not in host:
            return f"{self.api_domain}{path}"  # the loopback sandbox
        prefix, _, tld = host.partition(".zohoapis.")
        if tld == "ca":
            base = "https://crm.zohocloud.ca"
        else:
            base = f"https://{'crmsandbox' if prefix == 'sandbox' else 'crm'}.zoho.{tld}"
        return f"{base}{path}"

    # -- attachments and file fields (zoho_files.py) -----------------------------------------------
    def allows_attachments(self, object_name: str) -> bool:
        # Every module the Attachments API lists has the related list; the sandbox's all do
        # ([UNCONFIRMED] per org: the related list may be hidden from a layout).
        return True

    def upload_file(self, stream: Source, name: str, size: int | None = None, *, key: str = "") -> str:
        # ZFS names the file itself: `key` is not needed (a lost answer is uploaded again, file_fields.py).
        return self.files.upload_file(stream, name, size)

    # File and image upload fields: a list of {"File_Id__s", "File_Name__s", ...} (docs/files-api.md).
    supports_file_fields = True

    def file_field_files(self, value: Any) -> list[tuple[str, str]]:
        items = value if isinstance(value, list) else []
        return [
            (str(v["File_Id__s"]), str(v.get("File_Name__s") or ""))
            for v in items
            if isinstance(v, dict) and v.get("File_Id__s")
        ]

    def file_field_value(self, file_ids: list[str]) -> Any:
        return [{"File_Id__s": file_id} for file_id in file_ids]

    def file_field_sizes(self, value: Any) -> list[int | None]:
        # A record GET holds per file `Size__s` (the SDKs' FileDetails: a string) [UNCONFIRMED: bytes
        # rather than "1.2 KB"; some answers call it `original_Size_Byte`]: read as bytes when digits.
        items = value if isinstance(value, list) else []
        return [
            _byte_count(v.get("Size__s", v.get("original_Size_Byte")))
            for v in items
            if isinstance(v, dict) and v.get("File_Id__s")
        ]

    def download_file_field(
        self, object_name: str, record_id: str, field_name: str, file_id: str
    ) -> contextlib.AbstractContextManager[Iterator[bytes]]:
        # The field's value names the file (File_Id__s); the record and field only say whose it is.
        return self.files.download_file(file_id)


def _byte_count(value: Any) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdigit() else None


def _bulk_outcome(row: BulkRow) -> WriteResult:
    """A bulk write's result row as a write outcome: ERRORS is `<code>-<column>` (several joined by `:`)."""
    if row.record_id:
        return WriteResult(ok=True, new_id=row.record_id)
    code, _, field = row.error.partition(":")[0].partition("-")
    message = f"Zoho's bulk write refused the record: {row.error or 'no reason given'}."
    return WriteResult(ok=False, error_type=code or "BULK_SKIPPED", error_message=message, field=field)
