"""Veeva Vault record reads, all but single records through VQL: search, children, batched reads
by ids, lookups for reconciliation, and the session user.

Facts and sources: ../shared/api-notes/vault.md (section numbers below refer to it).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote

from records.connectors import vault_filter, vault_pages
from records.connectors import vault_parse as vp
from records.connectors.at_once import map_at_once
from records.connectors.base import Page, Record, RelatedList
from records.connectors.errors import ConnectorError, NotFound, Rejected, Unavailable
from records.connectors.vault_api import MAX_QUERY_CHARS, VaultApi
from records.connectors.vault_metadata import VaultMetadata

# Ids per `id IN (...)` of a names read: ~19 characters an id keeps 1,000 far below 50,000, and
# 1,000 rows is VQL's default page (§3.3), so a chunk is usually one call.
NAMES_CHUNK = 1000
USERS_PAGE = 200  # users a Retrieve All Users call
CHILD_CHUNK = 200  # parent ids per `IN (...)`; keeps each VQL statement far below 50,000 chars


class VaultReads:
    """Reads records of the Vault; names and values in a statement are checked first (vql_name,
    vql_string, is_record_id), so nothing read from a user reaches VQL as syntax."""

    def __init__(self, api: VaultApi, metadata: VaultMetadata) -> None:
        self.api = api
        self.metadata = metadata
        self._api_user = ""

    def users_me(self) -> dict[str, Any]:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/users/validate-session-user/
        body = self.api.call("GET", "objects/users/me")
        self._api_user = vp.user_id(body) or self._api_user
        return body

    def api_user_id(self) -> str:
        """The session user's id (Validate Session User, §1.4), read once per connector: records
        this profile creates have it in `created_by__v`."""
        if not self._api_user:
            self.users_me()
            if not self._api_user:
                raise Unavailable("Vault did not say which user this session belongs to.", error_type="BAD_RESPONSE")
        return self._api_user

    def users(self) -> list[dict[str, Any]]:
        """Every user of the Vault ({id, email, name, active}): a copy into another vault maps its
        users by `user_email__v`. Kept in this one method so a VQL read of `user__sys` can replace
        the legacy call."""
        # Reference: https://developer.veevavault.com/api/24.3/#retrieve-all-users (legacy;
        # `start`, `limit`; not in the v26.2 notes [UNCONFIRMED paging]: read pages until one is
        # short or brings no user not seen before, so a Vault that ignores `start` ends the loop)
        out: dict[str, dict[str, Any]] = {}
        start = 0
        while True:
            body = self.api.call("GET", "objects/users", params={"start": start, "limit": USERS_PAGE})
            found = vp.users(body)
            fresh = [u for u in found if u["id"] not in out]
            out.update((u["id"], u) for u in fresh)
            if len(found) < USERS_PAGE or not fresh:
                return list(out.values())
            start += USERS_PAGE

    def search(self, object_name: str, text: str = "", *, page: int = 1, per_page: int = 50) -> Page:
        self.metadata.object(object_name)  # the object must exist
        page, per_page = max(1, int(page)), min(max(1, int(per_page)), 1000)
        where = ""
        text = (text or "").strip()
        if text:
            where = f" WHERE id = {vp.vql_string(text)} OR name__v LIKE {vp.vql_string('%' + text + '%')}"
        q = (
            f"SELECT id, name__v FROM {vp.vql_name(object_name)}{where} ORDER BY name__v ASC"
            f" PAGESIZE {per_page} PAGEOFFSET {(page - 1) * per_page}"
        )
        if len(q) > MAX_QUERY_CHARS:
            raise Rejected("The search text is too long.", error_type="QUERY_TOO_LONG")
        body = self.api.call("POST", "query", data={"q": q})
        rows = vp.rows(body)
        details = body.get("responseDetails") or {}
        total = vp.to_int(details.get("total"))
        more = (page - 1) * per_page + len(rows) < total if total is not None else len(rows) == per_page
        return Page([_record(object_name, r) for r in rows], page, bool(more))

    def query_ids(self, object_name: str, where: str, *, limit: int) -> list[Record]:
        """The newest `limit` records matching a person's VQL filter (vault_filter), with their
        name and creation time: `SELECT id, name__v, created_date__v FROM o WHERE … ORDER BY
        created_date__v DESC PAGESIZE n` (§3.3), read no further than `limit` rows."""
        fields = self.metadata.fields(object_name)  # the object must exist; the filter names its fields
        condition = vault_filter.rebuild_where(where, fields)
        columns = ", ".join(n for n in ("id", "name__v", vp.CREATED_FIELD) if n == "id" or n in fields)
        clauses = [f"SELECT {columns} FROM {vp.vql_name(object_name)}"]
        if condition:
            clauses.append(f"WHERE {condition}")
        if vp.CREATED_FIELD in fields:
            clauses.append(f"ORDER BY {vp.CREATED_FIELD} DESC")
        limit = max(1, int(limit))
        # Vault's page is at most 1,000 rows (§3.3); a larger limit reads the next page.
        clauses.append(f"PAGESIZE {min(limit, NAMES_CHUNK)}")
        rows = itertools.islice(self.api.query(" ".join(clauses)), limit)
        return [_record(object_name, row) for row in rows]

    def get(self, object_name: str, record_id: str) -> Record:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/retrieve-object-record/
        if not vp.is_record_id(str(record_id or "")):
            raise NotFound(f"No {object_name} record with that id.", error_type="INVALID_DATA")
        body = self.api.call("GET", f"vobjects/{vp.vql_name(object_name)}/{quote(record_id, safe='')}")
        return _record(object_name, vp.record(body))

    def children(self, related: RelatedList, parent_ids: Sequence[str]) -> Iterator[Record]:
        fields = self.metadata.listed_fields(related.child_object)  # the names: no picklist values
        if related.parent_field not in fields:
            raise Rejected(f"{related.child_object} has no field {related.parent_field}.", error_type="INVALID_NAME")
        names = ", ".join(vp.vql_name(n) for n in fields)
        ids = list(dict.fromkeys(str(p) for p in parent_ids if p))
        for start in range(0, len(ids), CHILD_CHUNK):
            chunk = ", ".join(vp.vql_string(i) for i in ids[start : start + CHILD_CHUNK])
            q = f"SELECT {names} FROM {vp.vql_name(related.child_object)} WHERE {vp.vql_name(related.parent_field)} IN ({chunk})"
            # Its pages at once (vault_pages): a large related list is most of a plan's wait.
            for row in vault_pages.rows_at_once(self.api, q):
                yield _record(related.child_object, row)

    # -- batched reads by ids (§3.3: `... WHERE id IN (...)`, NAMES_CHUNK ids a statement) --------
    def names(self, object_name: str, ids: Sequence[str]) -> dict[str, str]:
        """`SELECT id, name__v`; users (user__sys) from the users list, as every user read here."""
        if object_name == vp.USER_OBJECT:
            wanted = set(ids)
            return {u["id"]: u["name"] or u["email"] for u in self.users() if u["id"] in wanted}
        try:
            return vp.names(self._by_ids(object_name, "id, name__v", ids))
        except ConnectorError:
            # The object must exist: its metadata read says so when it doesn't. Read only on a
            # failure, so a plan's names read needn't wait for the object's describe.
            self.metadata.object(object_name)
            raise

    def field_values(self, object_name: str, ids: Sequence[str], fields: Sequence[str]) -> dict[str, dict[str, Any]]:
        """`SELECT id, <fields>`; fields the object doesn't have are left out."""
        known = self.metadata.fields(object_name)
        columns = [f for f in dict.fromkeys(fields) if f in known and f != "id"]
        select = ", ".join(["id", *(vp.vql_name(f) for f in columns)])
        rows = self._by_ids(object_name, select, ids)
        out = {str(row.get("id") or ""): {f: row.get(f) for f in columns} for row in rows}
        out.pop("", None)
        return out

    def match_ids(self, object_name: str, field: str, values: Sequence[str]) -> dict[str, list[str]]:
        """`SELECT id, f FROM o WHERE f IN (...)`, NAMES_CHUNK values (and at most MAX_QUERY_CHARS) a
        statement. UNCONFIRMED: whether Vault compares text case-blind; rows are mapped back by their
        exact value, so a value that only differs in case stays unmatched. UNCONFIRMED too: the VQL
        reference shows IN with ids and sub-queries; a list of strings on another field is read the
        same way (the sandbox takes it). Should Vault refuse it, Connector.match_ids's one find a
        value is the fallback (holders reads through this method)."""
        # The field's name checked against the metadata alone: no wait for the picklists' values.
        if field not in self.metadata.listed_fields(object_name):
            raise Rejected(f"{object_name} has no field {field!r}.", error_type="INVALID_NAME")
        wanted = list(dict.fromkeys(str(v) for v in values if v not in (None, "")))
        head = f"SELECT id, {vp.vql_name(field)} FROM {vp.vql_name(object_name)} WHERE {vp.vql_name(field)} IN ("
        chunks = _chunks(wanted, NAMES_CHUNK, MAX_QUERY_CHARS - len(head) - 1)
        answers = self._queries([head + ", ".join(vp.vql_string(v) for v in chunk) + ")" for chunk in chunks])
        out: dict[str, list[str]] = {}
        for chunk, rows in zip(chunks, answers, strict=True):
            asked = set(chunk)
            for row in rows:
                value = str(row.get(field) or "")
                if value in asked:
                    out.setdefault(value, []).append(str(row.get("id") or ""))
        return out

    def holders(self, object_name: str, field_name: str, values: Sequence[str]) -> dict[str, str]:
        """The records match_ids finds (its batches and MAX_QUERY_CHARS bound: one rule for which
        records hold these values), each value named by its first holder: by the value itself when
        the field is the name (no further call), else by a names() read of the holders found."""
        first = {value: ids[0] for value, ids in self.match_ids(object_name, field_name, values).items() if ids}
        if field_name == "name__v":
            return {value: value for value in first}
        names = self.names(object_name, list(first.values())) if first else {}
        return {value: names.get(rid) or rid for value, rid in first.items()}

    def stamps(self, object_name: str, ids: Sequence[str]) -> dict[str, Record]:
        """`SELECT id, name__v, created_date__v, modified_date__v, created_by__v` (as names())."""
        fields = self.metadata.fields(object_name)  # the object must exist
        columns = ", ".join(n for n in ("id", "name__v", *vp.STAMP_FIELDS) if n == "id" or n in fields)
        records = (_record(object_name, row) for row in self._by_ids(object_name, columns, ids))
        return {r.id: r for r in records if r.id}

    def _by_ids(self, object_name: str, select: str, ids: Sequence[str]) -> Iterator[dict[str, Any]]:
        """The VQL rows of the records among `ids`, with the columns `select` names."""
        wanted = [i for i in dict.fromkeys(str(i) for i in ids if i) if vp.is_record_id(i)]
        head = f"SELECT {select} FROM {vp.vql_name(object_name)} WHERE id IN ("
        chunks = [wanted[start : start + NAMES_CHUNK] for start in range(0, len(wanted), NAMES_CHUNK)]
        for rows in self._queries([head + ", ".join(vp.vql_string(i) for i in chunk) + ")" for chunk in chunks]):
            yield from rows

    def _queries(self, statements: list[str]) -> list[list[dict[str, Any]]]:
        """Each statement's rows (all its pages, each page after the one before: the cursor), the
        statements at once up to the profile's concurrency: chunks of one read don't depend on
        each other. The session is read here first, so the pool's threads find it cached (the
        token store is a database row, which a thread of its own may not see)."""
        if len(statements) > 1:
            self.api.session()
        return map_at_once(lambda q: list(self.api.query(q)), statements, workers=self.api.config.concurrency)

    def find(
        self,
        object_name: str,
        equals: dict[str, str],
        *,
        created_since: dt.datetime | None = None,
        created_by: str = "",
    ) -> list[Record]:
        if not (equals or created_since or created_by):
            return []
        select = self._find_select(object_name, list(equals))
        conditions = [f"{vp.vql_name(k)} = {vp.vql_string(v)}" for k, v in equals.items()]
        conditions += _stamp_conditions(created_since, created_by)
        q = f"SELECT {select} FROM {vp.vql_name(object_name)} WHERE {' AND '.join(conditions)}"
        return [_record(object_name, r) for r in self.api.query(q)]

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
        """find's conditions with `field IN (...)`: NAMES_CHUNK values (and MAX_QUERY_CHARS) a
        statement, the statements at once (the IN on any field: match_ids's UNCONFIRMED note)."""
        select = self._find_select(object_name, [field, *also])
        wanted = list(dict.fromkeys(str(v) for v in values if v not in (None, "")))
        tail = "".join(f" AND {c}" for c in _stamp_conditions(created_since, created_by))
        head = f"SELECT {select} FROM {vp.vql_name(object_name)} WHERE {vp.vql_name(field)} IN ("
        chunks = _chunks(wanted, NAMES_CHUNK, MAX_QUERY_CHARS - len(head) - len(tail) - 1)
        statements = [head + ", ".join(vp.vql_string(v) for v in chunk) + ")" + tail for chunk in chunks]
        found = {r.id: r for rows in self._queries(statements) for r in (_record(object_name, row) for row in rows)}
        return list(found.values())

    def _find_select(self, object_name: str, names: list[str]) -> str:
        """The columns a look-up returns: the id, the name, the stamps and the fields it compares."""
        fields = self.metadata.fields(object_name)
        unknown = [k for k in names if k not in fields]
        if unknown:
            raise Rejected(f"{object_name} has no field {unknown[0]!r}.", error_type="INVALID_NAME")
        stamps = [n for n in vp.STAMP_FIELDS if n in fields]
        return ", ".join(dict.fromkeys(["id", *(n for n in ("name__v",) if n in fields), *stamps, *names]))


def _stamp_conditions(created_since: dt.datetime | None, created_by: str) -> list[str]:
    conditions = []
    if created_since is not None:
        # Floored to the whole second Vault keeps (vp.vql_datetime): never later than asked.
        conditions.append(f"{vp.CREATED_FIELD} >= {vp.vql_datetime(created_since)}")
    if created_by:
        # UNCONFIRMED: the documented VQL examples compare object references with a quoted id
        # (`product__v = '00P…'`); created_by__v answers as an integer (§3.2) and is compared
        # the same way here, quoted, which the sandbox accepts as a number too.
        conditions.append(f"{vp.CREATED_BY_FIELD} = {vp.vql_string(created_by)}")
    return conditions


def _record(object_name: str, row: dict[str, Any]) -> Record:
    created, modified, created_by = vp.stamps(row)
    return Record(
        id=str(row.get("id") or ""),
        object_name=object_name,
        fields=row,
        name=str(row.get("name__v") or ""),
        created=created,
        modified=modified,
        created_by=created_by,
    )


def _chunks(values: list[str], most: int, room: int) -> list[list[str]]:
    """`values` in runs of at most `most` whose quoted, comma-separated text fits in `room` characters."""
    out: list[list[str]] = []
    size = room + 1
    for value in values:
        cost = len(vp.vql_string(value)) + 2
        if not out or len(out[-1]) >= most or size + cost > room:
            out.append([])
            size = 0
        out[-1].append(value)
        size += cost
    return out
