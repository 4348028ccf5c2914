"""The Veeva Vault REST API emulator (a WSGI app). Section numbers refer to api-notes vault.md."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass, fields, replace
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from sandbox import clock, demo, record_page, target_org, vault_mdl
from sandbox.files import FileStore
from sandbox.vault_files import ATTACHMENT_OBJECTS, FileAnswer, VaultFiles
from sandbox.vault_jobs import JobRunner
from sandbox.vault_schema import USER_OBJECT, USER_OBJECT_REF
from sandbox.vault_state import BLANK, VaultError, VaultState, err
from sandbox.vault_vql import VQLError, compile_condition, parse, sort_key

# The newest API version served: Vault's 26R3 release (three releases a year, api-notes vault.md §9;
# the developer portal's reference pages run to 26.x,
# Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/authentication/retrieve-api-versions/).
NEWEST_VERSION = (26, 3)
QUERIES_KEPT = 16  # statements whose matches are kept for their later pages (a few read at once)


def _all_versions() -> tuple[str, ...]:
    # §9: v7.0 … v16.0, then three releases a year from v17.1 up to NEWEST_VERSION (the last is the beta).
    last_year, last_release = NEWEST_VERSION
    return tuple(f"v{n}.0" for n in range(7, 17)) + tuple(
        f"v{y}.{r}" for y in range(17, last_year + 1) for r in (1, 2, 3) if (y, r) <= NEWEST_VERSION
    )


@dataclass
class VaultSettings:
    versions: tuple[str, ...] = _all_versions()
    idle_timeout: float = 20 * 60  # §1.3: default 20 minutes [SECONDARY]
    max_session_age: float = 48 * 3600  # §1.3
    burst_limit: int = 2000  # §7.1 calls per burst window
    burst_window: float = 300.0  # §7.1 fixed 5-minute window
    burst_delay_ms: int = 500  # §7.1 delay added per call once over the limit
    burst_sleep: bool = True  # actually sleep the delay (off: header only)
    auth_burst_limit: int = 200  # §7.1 auth calls per username per minute
    max_batch: int = 500  # §4.1, §8.1
    unknown_fields: str = "reject"  # §11.9 [UNCONFIRMED]: "reject" (INVALID_DATA) or "ignore"
    query_pagesize: int = 1000  # §3.3
    subquery_pagesize: int = 250  # §3.3
    job_poll_interval: float = 10.0  # §5.2 one status call per job per interval
    job_queue_seconds: float = 0.05  # time a job stays QUEUED
    job_min_run_seconds: float = 0.05  # time a job stays RUNNING at least
    deep_copy_max_related: int = 10_000  # §5.1
    deep_copy_honour_no_copy: bool = True  # §11.10 [UNCONFIRMED]
    # §4.1: X-VaultAPI-MigrationMode needs the Record Migration permission; off: the user lacks it.
    record_migration_permission: bool = True
    # §5.3 [UNCONFIRMED] success-file columns; drop "targetRecordId" to test a client's fallback.
    deepcopy_success_columns: tuple[str, ...] = ("vobject", "sourceRecordId", "targetRecordId")
    # §2.4 [UNCONFIRMED] the `hierarchical_copy` key of inbound relationships is this sandbox's
    # invention; off: metadata without it, as a real Vault may answer.
    relationship_hierarchical_flag: bool = True
    # Execute MDL Script: off, the user lacks the permission to change configuration (the answer
    # is a FAILURE with INSUFFICIENT_ACCESS [UNCONFIRMED]: the error type of the permission check).
    mdl_permission: bool = True
    # Serve the demo objects with the copy-key field (copy_key__c), the copy engine's idempotency
    # marker; off: no object has it (metadata and records), as in a real Vault. Read at (re)load.
    copy_keys: bool = True
    # Seconds this Vault's clock runs ahead of ours (negative: behind): records' created/modified
    # times and every answer's Date header are shifted by it.
    clock_skew: float = 0.0
    # "main", or "target": the second vault copies between profiles go to (sandbox/target_org.py).
    org: str = "main"
    # Where attachments' bytes are kept ("": a temporary directory; python -m sandbox --state: beside it).
    files_dir: str = ""
    # "Giant Product" with this many related records (demo.giant_product), loaded last (the ids
    # above stay); 0: not made. For the 100,000-record benchmark (bench/giant.py).
    giant_related: int = 0

    def updated(self, **kwargs) -> VaultSettings:
        return replace(self, **kwargs)


@dataclass
class Request:
    method: str
    path: str  # below /api/{version}/
    version: str
    query: dict
    headers: dict
    body: bytes
    content_type: str
    session: dict | None = None
    session_id: str | None = None
    stream: Any = None  # a file upload's body, read by its route as a stream (sandbox/files.py)
    length: int = 0

    def param(self, name, default=None):
        return self.query.get(name, [default])[0]

    def form(self) -> dict:
        if self.content_type.startswith("multipart/form-data"):
            header = f"Content-Type: {self.headers.get('content-type')}\r\n\r\n".encode()
            msg = BytesParser(policy=policy.HTTP).parsebytes(header + self.body)
            out = {}
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if name:
                    payload = part.get_payload(decode=True)
                    out[name] = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
            return out
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True).items()}

    def rows(self) -> list[dict]:
        """Parse a JSON array or CSV body (§4.1)."""
        text = self.body.decode("utf-8-sig", "replace")
        if self.content_type.startswith("text/csv"):
            return [dict(r) for r in csv.DictReader(io.StringIO(text))]
        if not text.strip():
            return []
        try:
            data = json.loads(text)
        except ValueError:
            raise VaultError("INVALID_DATA", "Invalid JSON body") from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise VaultError("INVALID_DATA", "Body must be a JSON array of records")
        return data


_ID = r"([A-Za-z0-9_]+)"


class VaultApp:
    """WSGI callable; `.state` holds the data, `.settings` the knobs."""

    def __init__(self, settings: VaultSettings | None = None):
        self._initial_settings = replace(settings or VaultSettings())
        self.settings = replace(self._initial_settings)
        self.base_url = ""
        self.state = VaultState(self.settings)
        self.jobs = JobRunner(self)
        self.store = FileStore(Path(self.settings.files_dir) if self.settings.files_dir else None)
        self.files = VaultFiles(self, self.store)
        self.state.attachment_fields = self.files.fields
        self.files.load_demo(self.state.records)
        # The target vault is another vault: its own id (Authentication's vaultId and the header).
        self.vault_id = target_org.VAULT_ID if self.settings.org == "target" else demo.VAULT_ID
        routes = [
            ("POST", "auth", "auth", False),
            ("POST", "keep-alive", "keep_alive", True),
            ("DELETE", "session", "end_session", True),
            ("GET", "objects/users/me", "users_me", True),
            ("GET", "objects/users", "list_users", True),
            ("GET", r"objects/users/(\d+)", "get_user", True),
            ("GET", "objects/picklists", "list_picklists", True),
            ("GET", rf"objects/picklists/{_ID}", "picklist_values", True),
            ("GET", "metadata/vobjects", "list_objects", True),
            ("GET", rf"metadata/vobjects/{_ID}", "object_metadata", True),
            ("GET", rf"metadata/vobjects/{_ID}/fields/{_ID}", "field_metadata", True),
            ("POST|GET", "query", "query", True),
            ("POST|GET", r"query/([0-9a-f-]+)", "query_page", True),
            ("GET", r"services/jobs/(\d+)", "jobs.status", True),
            ("GET", rf"vobjects/deepcopy/results/{_ID}/(success|failure)/(\d+)", "jobs.results", True),
            ("GET", rf"vobjects/cascadedelete/results/{_ID}/(success|failure)/(\d+)", "jobs.results", True),
            ("GET", rf"objects/deletions/vobjects/{_ID}", "deleted_ids", True),
            ("POST", rf"vobjects/{_ID}/{_ID}/actions/deepcopy", "jobs.start_deep_copy", True),
            ("POST", rf"vobjects/{_ID}/{_ID}/actions/cascadedelete", "jobs.start_cascade_delete", True),
            ("GET|POST", rf"vobjects/{_ID}/{_ID}/attachments", "files.list_or_create", True),
            ("GET|DELETE", rf"vobjects/{_ID}/{_ID}/attachments/(\d+)", "files.one_or_delete", True),
            ("GET", rf"vobjects/{_ID}/{_ID}/attachments/(\d+)/file", "files.download", True),
            ("GET", rf"vobjects/{_ID}/{_ID}/attachment_fields/{_ID}/file", "files.fields.download", True),
            ("POST", "services/file_staging/items", "files.fields.stage", True),
            ("GET", rf"vobjects/{_ID}/{_ID}", "get_record", True),
            ("POST|PUT|DELETE", rf"vobjects/{_ID}", "write_records", True),
            ("POST", "mdl/execute", "mdl_execute", True),
        ]
        self.routes = [(m.split("|"), re.compile(p + r"/?\Z"), h, a) for m, p, h, a in routes]

    # -- hooks -----------------------------------------------------------------------------
    def reset(self) -> None:
        """Fresh demo data and the settings the app was built with."""
        self.jobs.shutdown()
        self.settings = replace(self._initial_settings)
        self.state = VaultState(self.settings)
        self.jobs = JobRunner(self)
        self.files = VaultFiles(self, self.store)
        self.state.attachment_fields = self.files.fields
        self.files.load_demo(self.state.records)

    def shutdown(self) -> None:
        self.jobs.shutdown()

    def configure(self, **kwargs) -> None:
        """Change settings in place (tests): app.configure(job_poll_interval=0.1)."""
        known = {f.name for f in fields(VaultSettings)}
        for key, value in kwargs.items():
            if key not in known:
                raise ValueError(f"unknown Vault setting {key}")
            setattr(self.settings, key, value)

    def expire_sessions(self) -> None:
        """Test hook: every session becomes invalid (→ INVALID_SESSION_ID)."""
        with self.state.lock:
            self.state.sessions.clear()

    def fault_response(self, status: int, start_response):
        kind = ("API_LIMIT_EXCEEDED", "Too many requests") if status == 429 else ("UNEXPECTED_ERROR", "Internal error")
        payload = {"responseStatus": "FAILURE" if status == 429 else "EXCEPTION", "errors": [err(*kind)]}
        body = json.dumps(payload).encode()
        label = "429 Too Many Requests" if status == 429 else "500 Internal Server Error"
        start_response(
            label,
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                clock.date_header(self.settings.clock_skew),
            ],
        )
        return [body]

    # -- WSGI ------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO", "")
        # A file upload is read by its route as a stream, never whole (sandbox/files.py).
        multipart = headers["content-type"].lower().startswith("multipart/form-data")
        upload = multipart and ("/attachments" in path or path.endswith("/file_staging/items"))
        body = b"" if upload or not length else environ["wsgi.input"].read(length)
        if method == "GET" and (path == "/ui" or path.startswith("/ui/")):
            return record_page.vault_ui(self.state, path, start_response)  # the record links' pages
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if method == "POST" and query.get("_method", [""])[0].upper() == "DELETE":
            method = "DELETE"  # §8.1 alias for clients that cannot send a DELETE body
        extra_headers = {}
        req = None
        try:
            if path.rstrip("/") == "/api":
                payload = self.versions()
            else:
                # Execute MDL Script's documented path has no version: /api/mdl/execute.
                m = re.match(r"/api/(v\d+\.\d+)/(.*)\Z", path) or re.match(r"/api/()(mdl/execute)\Z", path)
                if not m:
                    raise VaultError("MALFORMED_URL", "The requested resource does not exist")
                version, sub = m.groups()
                if version and version not in self.settings.versions:
                    raise VaultError("MALFORMED_URL", f"API version [{version}] does not exist")
                req = Request(method, sub.rstrip("/"), version, query, headers, body, headers["content-type"].lower())
                if upload:
                    req.stream, req.length = environ["wsgi.input"], length
                extra_headers.update(self._burst())
                payload = self._dispatch(req)
        except VaultError as exc:
            payload = {"responseStatus": "FAILURE", "errors": [err(exc.type, exc.message)], **exc.extra}
        return self._respond(start_response, payload, req, extra_headers, headers)

    def _burst(self) -> dict:
        """§7.1: a fixed window that delays (never rejects) once over the limit."""
        st, s = self.state, self.settings
        with st.lock:
            now = time.monotonic()
            if now - st.burst_window_start >= s.burst_window:
                st.burst_window_start, st.burst_count = now, 0
            st.burst_count += 1
            count = st.burst_count
        out = {
            "X-VaultAPI-BurstLimit": str(s.burst_limit),
            "X-VaultAPI-BurstLimitRemaining": str(max(0, s.burst_limit - count)),
        }
        if count > s.burst_limit:
            out["X-VaultAPI-ResponseDelay"] = str(s.burst_delay_ms)
            if s.burst_sleep:
                time.sleep(s.burst_delay_ms / 1000)
        return out

    def _dispatch(self, req: Request):
        allowed = False
        for methods, pattern, handler, needs_session in self.routes:
            m = pattern.match(req.path)
            if not m:
                continue
            if req.method not in methods:
                allowed = True
                continue
            if needs_session:
                self._authenticate(req)
            target = self
            for part in handler.split("."):
                target = getattr(target, part)
            try:
                return target(req, *m.groups())
            finally:
                if req.session is not None:
                    req.session["last_used"] = time.monotonic()  # §1.3 idle counted from the end
        if allowed:
            raise VaultError("METHOD_NOT_SUPPORTED", f"Method [{req.method}] is not supported for this resource")
        raise VaultError("MALFORMED_URL", "The requested resource does not exist")

    def _authenticate(self, req: Request) -> None:
        """§1.2, §1.5: Authorization: {sessionId} or Bearer {sessionId}."""
        token = req.headers.get("authorization", "").strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        now = time.monotonic()
        with self.state.lock:
            session = self.state.sessions.get(token) if token else None
            if session and (
                now - session["last_used"] > self.settings.idle_timeout
                or now - session["created"] > self.settings.max_session_age
            ):
                del self.state.sessions[token]
                session = None
        if session is None:
            raise VaultError("INVALID_SESSION_ID", "Invalid or expired session ID.")
        req.session, req.session_id = session, token

    def _respond(self, start_response, payload, req, extra_headers, headers):
        if isinstance(payload, FileAnswer):
            return self._stream(start_response, payload, extra_headers)
        if isinstance(payload, tuple):  # (csv text, content type)
            body, ctype, status = payload[0].encode(), payload[1], "SUCCESS"
        else:
            body, ctype, status = (
                json.dumps(payload).encode(),
                "application/json;charset=UTF-8",
                payload.get("responseStatus", "SUCCESS"),
            )
        out = [
            ("Content-Type", ctype),
            ("Content-Length", str(len(body))),
            ("X-VaultAPI-ExecutionId", str(uuid.uuid4())),
            ("X-VaultAPI-VaultId", str(self.vault_id)),
            ("X-VaultAPI-Status", status),
            clock.date_header(self.settings.clock_skew),
        ]
        out += list(extra_headers.items())
        if not any(k == "X-VaultAPI-BurstLimit" for k, _ in out):
            out += [
                ("X-VaultAPI-BurstLimit", str(self.settings.burst_limit)),
                ("X-VaultAPI-BurstLimitRemaining", str(max(0, self.settings.burst_limit - self.state.burst_count))),
            ]
        if req is not None and req.session is not None:
            out += [
                ("X-VaultAPI-UserId", str(req.session["user_id"])),
                ("X-VaultAPI-TruncatedSessionId", req.session_id[:16]),
            ]
        if headers.get("x-vaultapi-referenceid"):
            out.append(("X-VaultAPI-ReferenceId", headers["x-vaultapi-referenceid"]))
        start_response("200 OK", out)
        return [body]

    def _stream(self, start_response, answer: FileAnswer, extra_headers):
        # Download Object Record Attachment File: the bytes, named in Content-Disposition.
        out = [
            ("Content-Type", answer.content_type),
            ("Content-Length", str(answer.size)),
            ("Content-Disposition", f'attachment;filename="{answer.filename}"'),
            ("X-VaultAPI-Status", "SUCCESS"),
            clock.date_header(self.settings.clock_skew),
            *extra_headers.items(),
        ]
        start_response("200 OK", out)
        return answer.chunks

    # -- §9 versions, §1 auth ----------------------------------------------------------------
    def versions(self):
        base = self.base_url or ""
        return {"responseStatus": "SUCCESS", "values": {v: f"{base}/api/{v}" for v in self.settings.versions}}

    def auth(self, req: Request):
        form = req.form()
        username, password = form.get("username", ""), form.get("password", "")
        fail = {"errorType": "AUTHENTICATION_FAILED"}
        if not username:
            raise VaultError("USERNAME_OR_PASSWORD_INCORRECT", "Authentication failed for user: .", **fail)
        now = time.monotonic()
        with self.state.lock:
            calls = [t for t in self.state.auth_calls.get(username, []) if now - t < 60]
            calls.append(now)
            self.state.auth_calls[username] = calls
        if len(calls) > self.settings.auth_burst_limit:
            raise VaultError("API_LIMIT_EXCEEDED", "Authentication burst limit exceeded")
        if not password:
            raise VaultError("NO_PASSWORD_PROVIDED", "No password was provided for the login call.", **fail)
        if username != demo.VAULT_USERNAME or password != demo.VAULT_PASSWORD:
            raise VaultError("USERNAME_OR_PASSWORD_INCORRECT", f"Authentication failed for user: {username}.", **fail)
        sid = secrets.token_hex(64).upper()
        with self.state.lock:
            self.state.sessions[sid] = {"user_id": self.state.api_user_id, "created": now, "last_used": now}
        base = self.base_url or ""
        return {
            "responseStatus": "SUCCESS",
            "sessionId": sid,
            "userId": self.state.api_user_id,
            "vaultIds": [{"id": self.vault_id, "name": "Sandbox Vault", "url": f"{base}/api"}],
            "vaultId": self.vault_id,
        }

    def keep_alive(self, req):
        return {"responseStatus": "SUCCESS"}

    def end_session(self, req):
        with self.state.lock:
            self.state.sessions.pop(req.session_id, None)
        req.session = None
        return {"responseStatus": "SUCCESS"}

    # The Vault's users (VaultState.users): the API user the profiles log in as, the one who loaded
    # the demo data, and (in the main vault) a rep who manages some products.
    def _user(self, user_id: int) -> dict:
        name, email, first, last = self.state.users[user_id]
        return {
            "user": {
                "id": user_id,
                "user_name__v": name,
                "user_first_name__v": first,
                "user_last_name__v": last,
                "user_email__v": email,
                "vault_id__v": self.vault_id,
                "active__v": True,
            }
        }

    def users_me(self, req):
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/users/validate-session-user/
        return {"responseStatus": "SUCCESS", "responseMessage": "OK", "users": [self._user(self.state.api_user_id)]}

    def list_users(self, req):
        """Retrieve All Users (legacy): `users: [{user: {...}}]`, every user of the Vault.
        Reference: https://developer.veevavault.com/api/24.3/#retrieve-all-users"""
        start, limit = int(req.param("start", 0)), min(int(req.param("limit", 200)), 1000)
        users = [self._user(uid) for uid in list(self.state.users)[start : start + limit]]
        return {"responseStatus": "SUCCESS", "size": len(users), "start": start, "limit": limit, "users": users}

    def get_user(self, req, user_id):
        """Retrieve User: `users: [{user: {...}}]` (Reference: https://developer.veevavault.com/api/24.3/#retrieve-user)."""
        if int(user_id) not in self.state.users:
            raise VaultError("INVALID_DATA", f"User [{user_id}] does not exist")
        return {"responseStatus": "SUCCESS", "users": [self._user(int(user_id))]}

    # -- MDL (sandbox/vault_mdl.py) ---------------------------------------------------------------
    def mdl_execute(self, req):
        if not self.settings.mdl_permission:
            raise VaultError("INSUFFICIENT_ACCESS", "User does not have sufficient privileges to perform the action")
        host = (self.base_url or "").split("://")[-1] or "sandbox.veevavault.com"
        return vault_mdl.execute(self.state, req.body.decode("utf-8", "replace"), host)

    # -- §2 metadata ---------------------------------------------------------------------------
    def _objdef(self, name):
        objdef = self.state.schema.get(name)
        if objdef is None:
            raise VaultError("INVALID_DATA", f"Object [{name}] does not exist")
        return objdef

    def _object_ref(self, objdef, version):
        return {
            "url": f"/api/{version}/metadata/vobjects/{objdef.name}",
            "label": objdef.label,
            "name": objdef.name,
            "label_plural": objdef.label_plural,
            "prefix": objdef.prefix,
        }

    def _target_ref(self, f, version):
        """The object an Object field points at: a demo object, or the users (user__sys)."""
        if f.object == USER_OBJECT:
            return {"url": f"/api/{version}/metadata/vobjects/{USER_OBJECT}", **USER_OBJECT_REF}
        return self._object_ref(self.state.schema[f.object], version)

    def _field_json(self, objdef, f, version):
        out = {
            "name": f.name,
            "label": f.label,
            "type": f.type,
            "required": f.required,
            "editable": f.editable,
            "unique": f.unique,
            "no_copy": f.no_copy,
            "source": "standard" if f.name.endswith("__v") or f.name == "id" else "custom",
            "status": ["active__v"],
            "list_column": f.name in ("id", "name__v"),
        }
        if f.name == "name__v":
            out["system_managed_name"] = f.system_managed_name
        if f.max_length:
            out["max_length"] = f.max_length
        if f.type == "Picklist":
            # The field names its picklist; the values come from /objects/picklists/{picklist}.
            out["picklist"] = f.picklist_name
            out["multi_value"] = f.multi_value
        if f.type == "Object":
            out.update(
                {
                    "object": self._target_ref(f, version),
                    "relationship_type": f.relationship_type,
                    "relationship_outbound_name": f.relationship_outbound_name,
                    "relationship_inbound_name": f.relationship_inbound_name,
                    "relationship_inbound_label": f.relationship_inbound_name.replace("__cr", "")
                    .replace("_", " ")
                    .title(),
                    "relationship_deletion": f.relationship_deletion,
                    "relationship_criteria": None,
                }
            )
        return out

    def _relationships(self, objdef, version):
        out = []
        for f in objdef.fields:
            if f.type == "Object":
                out.append(
                    {
                        "relationship_name": f.relationship_outbound_name,
                        "relationship_label": f.label,
                        "field": f.name,
                        "relationship_type": "parent" if f.relationship_type == "parent" else "reference_outbound",
                        "relationship_deletion": f.relationship_deletion,
                        "object": self._target_ref(f, version),
                    }
                )
        for other in self.state.schema.values():
            for f in other.fields:
                if f.type == "Object" and f.object == objdef.name:
                    out.append(
                        {
                            "relationship_name": f.relationship_inbound_name,
                            "relationship_label": other.label_plural,
                            "field": f.name,
                            "relationship_type": "child" if f.relationship_type == "parent" else "reference_inbound",
                            "relationship_deletion": f.relationship_deletion,
                            "object": self._object_ref(other, version),
                        }
                    )
                    if self.settings.relationship_hierarchical_flag:
                        # Sandbox extension ([UNCONFIRMED] §2.4): deep copy follows this one.
                        out[-1]["hierarchical_copy"] = f.hierarchical_copy
        return out

    def list_objects(self, req):
        objs = []
        for i, o in enumerate(self.state.schema.values()):
            objs.append(
                {
                    **self._object_ref(o, req.version),
                    "order": i + 1,
                    "in_menu": True,
                    "source": o.source,
                    "status": ["active__v"],
                    "configuration_state": "STEADY_STATE",
                }
            )
        return {"responseStatus": "SUCCESS", "objects": objs}

    def object_metadata(self, req, name):
        o, v = self._objdef(name), req.version
        return {
            "responseStatus": "SUCCESS",
            "object": {
                **self._object_ref(o, v),
                "source": o.source,
                "status": ["active__v"],
                "data_store": "standard",
                "system_managed": False,
                "in_menu": True,
                "allow_attachments": o.name in ATTACHMENT_OBJECTS,
                "dynamic_security": False,
                "available_lifecycles": [],
                "object_class": "base",
                "urls": {
                    "field": f"/api/{v}/metadata/vobjects/{o.name}/fields/{{name}}",
                    "record": f"/api/{v}/vobjects/{o.name}/{{id}}",
                    "list": f"/api/{v}/vobjects/{o.name}",
                    "metadata": f"/api/{v}/metadata/vobjects/{o.name}",
                },
                "relationships": self._relationships(o, v),
                "fields": [self._field_json(o, f, v) for f in o.fields],
            },
        }

    def field_metadata(self, req, name, field_name):
        o = self._objdef(name)
        f = o.get(field_name)
        if f is None:
            raise VaultError("INVALID_DATA", f"Field [{field_name}] does not exist on object [{name}]")
        return {"responseStatus": "SUCCESS", "field": self._field_json(o, f, req.version)}

    # -- picklists (https://limited.veevavault.dev/vault-api/api-reference/25.2/picklists/) ----------
    def list_picklists(self, req):
        """Retrieve All Picklists: name, label, kind, usedIn [{objectName, propertyName}]."""
        out = []
        for p in self.state.picklists.values():
            used = [
                {"objectName": o.name, "propertyName": f.name}
                for o in self.state.schema.values()
                for f in o.fields
                if f.picklist_name == p.name
            ]
            out.append({"name": p.name, "label": p.label, "kind": "global", "systemManaged": False, "usedIn": used})
        return {
            "responseStatus": "SUCCESS",
            "responseMessage": "Success",
            "errorCodes": None,
            "picklists": out,
            "errorType": None,
        }

    def picklist_values(self, req, name):
        """Retrieve Picklist Values: the ACTIVE values, in order, as {name, label}."""
        p = self.state.picklists.get(name)
        if p is None:
            # [UNCONFIRMED] the docs show no error for an unknown picklist; INVALID_DATA like an
            # unknown object or field here.
            raise VaultError("INVALID_DATA", f"Picklist [{name}] does not exist")
        return {
            "responseStatus": "SUCCESS",
            "responseMessage": "Success",
            "picklistValues": [{"name": n, "label": label} for n, label in p.values],
        }

    # -- §3 records and VQL --------------------------------------------------------------------
    def get_record(self, req, name, rid):
        o = self._objdef(name)
        with self.state.lock:
            rec = self.state.records[name].get(rid)
            data = {k: (list(v) if isinstance(v, list) else v) for k, v in rec.items()} if rec else None
        if data is None:
            raise VaultError("INVALID_DATA", f"The resource [{rid}] does not exist")
        return {
            "responseStatus": "SUCCESS",
            "responseDetails": {
                "url": f"/api/{req.version}/vobjects/{name}/{rid}",
                "object": self._object_ref(o, req.version),
            },
            "data": data,
        }

    def query(self, req):
        q = req.form().get("q") if req.method == "POST" else None
        q = q or req.param("q")
        if not q:
            raise VaultError("PARAMETER_REQUIRED", "Missing required parameter [q]")
        try:
            parsed = parse(q)
            pagesize = parsed.pagesize or self.settings.query_pagesize
            offset = parsed.pageoffset or 0
            with self.state.lock:
                rows = self._run_query(parsed)
                rows.page(offset, pagesize)  # the answer's rows made now: a sub-query's error is this call's
        except VQLError as exc:
            raise VaultError("INCORRECT_QUERY_SYNTAX_ERROR", str(exc)) from None
        qid = None
        if len(rows) > offset + pagesize or offset:
            qid = str(uuid.uuid4())
            with self.state.lock:
                self.state.queries[qid] = {"rows": rows, "created": time.monotonic()}
                while len(self.state.queries) > 200:
                    self.state.queries.popitem(last=False)
        return self._page(req, rows, qid, pagesize, offset)

    def query_page(self, req, qid):
        with self.state.lock:
            cached = self.state.queries.get(qid)
        if cached is None or time.monotonic() - cached["created"] > 72 * 3600:
            raise VaultError("INVALID_DATA", "Query page has expired or does not exist")
        try:
            pagesize = int(req.param("pagesize", self.settings.query_pagesize))
            offset = int(req.param("pageoffset", 0))
        except ValueError:
            raise VaultError("INVALID_DATA", "pagesize and pageoffset must be integers") from None
        return self._page(req, cached["rows"], qid, pagesize, offset)

    def _page(self, req, rows, qid, pagesize, offset):
        with self.state.lock:
            page = rows.page(offset, pagesize)
        details = {"pagesize": pagesize, "pageoffset": offset, "size": len(page), "total": len(rows)}
        if qid and offset + pagesize < len(rows):
            details["next_page"] = f"/api/{req.version}/query/{qid}?pagesize={pagesize}&pageoffset={offset + pagesize}"
        if qid and offset > 0:
            details["previous_page"] = (
                f"/api/{req.version}/query/{qid}?pagesize={pagesize}&pageoffset={max(0, offset - pagesize)}"
            )
        return {"responseStatus": "SUCCESS", "responseDetails": details, "data": page}

    def _getter_for(self, objdef):
        """Resolve `field` and outbound `rel__cr.field` lookups on records of objdef."""
        outbound = {f.relationship_outbound_name: f for f in objdef.fields if f.type == "Object"}
        records = self.state.records

        def check(name):
            if "." in name:
                rel, fname = name.split(".", 1)
                f = outbound.get(rel)
                if f is None or f.object not in self.state.schema or self.state.schema[f.object].get(fname) is None:
                    raise VQLError(f"Invalid field [{name}] for object [{objdef.name}]")
            elif objdef.get(name) is None:
                raise VQLError(f"Invalid field [{name}] for object [{objdef.name}]")

        def getter(rec, name):
            if "." not in name:
                return rec.get(name)
            rel, fname = name.split(".", 1)
            f = outbound[rel]
            parent = records[f.object].get(rec.get(f.name)) if rec.get(f.name) else None
            return parent.get(fname) if parent else None

        return check, getter

    def _select(self, objdef, q, candidates):
        check, getter = self._getter_for(objdef)
        for name in q.fields:
            check(name)
        for name, _ in q.order:
            check(name)
        _walk(q.where, check)
        pred = compile_condition(q.where, getter)
        hits = [r for r in candidates if pred(r)]
        for name, desc in reversed(q.order):
            hits.sort(key=lambda r, n=name: sort_key(getter(r, n)), reverse=desc)
        return hits, getter

    def _candidates(self, q):
        """The records a query looks at: for `id IN (ids)`, those records; for `reference IN (ids)`
        ordered by id (a related list's pages), the children of those ids from the reference index;
        else all of the object's (the condition is applied to them either way; the order by id
        makes both lists the same)."""
        records = self.state.records[q.object]
        where = q.where
        if where and where[0] == "in" and where[1] == "id":
            # `id IN (...)` (a names read: 1,000 ids): the records with those ids, in the order of
            # all of them as before, by a look-up each rather than the condition tested on each.
            wanted = set(where[2])
            return [rec for rid, rec in records.items() if rid in wanted]
        by_id = any(name == "id" for name, _ in q.order)
        index = self.state.refs.get((q.object, where[1])) if by_id and where and where[0] == "in" else None
        if index is None:
            return records.values()
        ids = dict.fromkeys(rid for parent in where[2] for rid in index.get(parent, ()))
        return [records[rid] for rid in ids if rid in records]

    def _hits(self, objdef, q):
        """The records a query matches, in order. A page asked for by PAGEOFFSET is the statement
        run again: its matches are the ones its first page found while no record was written since
        (each page selected and sorted them all again: 20 pages of a related list of 20,000 rows
        looked at 400,000 records). Read under the state's lock."""
        key = repr(replace(q, pagesize=None, pageoffset=None))
        cached = self.state.query_hits.get(key) if q.pageoffset else None
        if cached is not None and cached[0] == self.state.written:
            return cached[1]
        found = self._select(objdef, q, self._candidates(q))
        if len(found[0]) > (q.pagesize or self.settings.query_pagesize):  # later pages may be asked for
            self.state.query_hits[key] = (self.state.written, found)
            while len(self.state.query_hits) > QUERIES_KEPT:
                self.state.query_hits.popitem(last=False)
        return found

    def _run_query(self, q):
        """The query's rows, each built (its fields, its sub-queries) when a page first hands it
        out: a 10,000-row result read a page at a time (by cursor or PAGEOFFSET) builds 1,000 rows
        an answer, not 10,000, so the emulator's CPU stays near a real Vault's share of the wait."""
        objdef = self.state.schema.get(q.object)
        if objdef is None:
            raise VQLError(f"Object [{q.object}] does not exist")
        hits, getter = self._hits(objdef, q)
        inbound = {}
        for other in self.state.schema.values():
            for f in other.fields:
                if f.type == "Object" and f.object == objdef.name:
                    inbound[f.relationship_inbound_name] = (other, f)
        for sub in q.subqueries:
            if sub.object not in inbound:
                raise VQLError(f"Invalid relationship [{sub.object}] for object [{objdef.name}]")
        return _LazyRows(hits, lambda rec: self._row(q, rec, getter, inbound))

    def _row(self, q, rec, getter, inbound):
        row = {}
        for item in q.select_order:
            if isinstance(item, str):
                v = getter(rec, item)
                row[item] = list(v) if isinstance(v, list) else v
            else:
                child_def, f = inbound[item.object]
                children = [
                    self.state.records[child_def.name][c]
                    for c in self.state.children_of(child_def.name, f.name, rec["id"])
                ]
                sub_hits, sub_get = self._select(child_def, item, children)
                size = self.settings.subquery_pagesize
                data = [{n: sub_get(c, n) for n in item.fields} for c in sub_hits[:size]]
                row[item.object] = {
                    "responseDetails": {
                        "pagesize": size,
                        "pageoffset": 0,
                        "size": len(data),
                        "total": len(sub_hits),
                    },
                    "data": data,
                }
        return row

    # -- §4 create / upsert / update, §8.1 delete -------------------------------------------------
    def write_records(self, req, name):
        objdef = self._objdef(name)
        rows = req.rows()
        if len(rows) > self.settings.max_batch:
            # §11.9 [UNCONFIRMED] error type for a too-large batch.
            raise VaultError("INVALID_DATA", f"Too many records: maximum is {self.settings.max_batch} per request")
        if not rows:
            raise VaultError("INVALID_DATA", "No records were provided")
        id_param = self._id_param(req, objdef, name)
        if req.method == "DELETE":
            return self._delete_rows(req, objdef, rows, id_param)
        self._migration_mode(req, objdef, rows)
        if id_param:
            keys = [r.get(id_param) for r in rows if r.get(id_param) not in BLANK]
            dupes = sorted({k for k in keys if keys.count(k) > 1}, key=str)
            if dupes:  # §4.1: duplicate idParam values fail the entire batch
                raise VaultError("INVALID_DATA", f"Duplicate values for idParam [{id_param}]: {dupes}")
        results = []
        with self.state.lock:
            for row in rows:
                results.append(
                    self.state.apply_row(objdef, row, id_param=id_param, honour_no_copy=True, version=req.version)
                )
        status = "WARNING" if any(r["responseStatus"] == "WARNING" for r in results) else "SUCCESS"
        payload = {"responseStatus": status, "data": results}
        if status == "WARNING":
            payload["warnings"] = [{"warning_type": "NO_DATA_CHANGES", "message": "One or more records not updated"}]
        return payload

    def _id_param(self, req, objdef, name):
        """The field that finds each row's record (idParam; `id` for an update without one)."""
        id_param = req.param("idParam")
        if req.method == "PUT" and not id_param:
            id_param = "id"
        if id_param and id_param != "id":
            f = objdef.get(id_param)
            if f is None or not f.unique:
                raise VaultError("INVALID_DATA", f"idParam [{id_param}] is not a unique field of [{name}]")
        return id_param

    def _migration_mode(self, req, objdef, rows) -> None:
        """§4.1: X-VaultAPI-MigrationMode (Record Migration permission) and X-VaultAPI-NoTriggers
        (only with migration mode). Recorded for tests; the lighter validation is not emulated."""
        migration = req.headers.get("x-vaultapi-migrationmode", "").lower() == "true"
        no_triggers = req.headers.get("x-vaultapi-notriggers", "").lower() == "true"
        if not (migration or no_triggers):
            return
        if not self.settings.record_migration_permission:
            # [UNCONFIRMED] the exact error type and text for a user without the permission.
            raise VaultError("INSUFFICIENT_ACCESS", "User does not have the Record Migration permission")
        if no_triggers and not migration:
            # [UNCONFIRMED] error for NoTriggers without MigrationMode (documented as "only with").
            raise VaultError("INVALID_DATA", "X-VaultAPI-NoTriggers is only allowed with X-VaultAPI-MigrationMode")
        self.state.write_modes.append(
            {"object": objdef.name, "rows": len(rows), "migration_mode": migration, "no_triggers": no_triggers}
        )

    def _delete_rows(self, req, objdef, rows, id_param):
        results, seen = [], set()
        key_field = id_param or "id"
        with self.state.lock:
            records = self.state.records[objdef.name]
            for row in rows:
                key = row.get(key_field)
                rid = key if key_field == "id" else self.state.unique[objdef.name][key_field].get(key)
                extra = {"id_param_value": key} if id_param else {}
                if key in BLANK or rid not in records:
                    results.append(
                        {
                            "responseStatus": "FAILURE",
                            "errors": [err("INVALID_DATA", f"Invalid id [{key}]")],
                            **({"data": extra} if extra else {}),
                        }
                    )
                    continue
                if rid in seen:
                    results.append(
                        {"responseStatus": "FAILURE", "errors": [err("INVALID_DATA", f"Duplicate id [{key}]")]}
                    )
                    continue
                blockers = self.state.blocking_references(objdef.name, rid)
                if blockers:
                    results.append(
                        {
                            "responseStatus": "FAILURE",
                            "errors": [
                                err(
                                    "OPERATION_NOT_ALLOWED",
                                    f"Cannot delete [{rid}]: {len(blockers)} related record(s) block deletion",
                                )
                            ],
                        }
                    )
                    continue
                seen.add(rid)
                self.state.delete(objdef.name, rid)
                results.append({"responseStatus": "SUCCESS", "data": {"id": rid, **extra}})
        return {"responseStatus": "SUCCESS", "data": results}

    def deleted_ids(self, req, name):
        self._objdef(name)
        try:
            limit = min(5000, int(req.param("limit", 1000)))
            offset = int(req.param("offset", 0))
        except ValueError:
            raise VaultError("INVALID_DATA", "limit and offset must be integers") from None
        start, end = req.param("start_date"), req.param("end_date")
        with self.state.lock:
            items = [
                d
                for d in self.state.deletions[name]
                if (not start or d["date_deleted"] >= start) and (not end or d["date_deleted"] <= end)
            ]
        page = items[offset : offset + limit]
        return {
            "responseStatus": "SUCCESS",
            "responseMessage": "OK",
            "responseDetails": {"total": len(items), "size": len(page), "limit": limit, "offset": offset},
            "data": page,
        }


def _walk(node, check):
    if node is None:
        return
    if node[0] in ("and", "or"):
        _walk(node[1], check)
        _walk(node[2], check)
    else:
        check(node[1])


class _LazyRows:
    """A query's matching records, each made a row (`project`) the first time a page hands it out,
    then kept: a row is the record as it was when first read, as the whole result was before."""

    def __init__(self, hits, project):
        self._hits = hits
        self._project = project
        self._made = {}

    def __len__(self):
        return len(self._hits)

    def page(self, offset, size):
        out = []
        for i in range(max(0, offset), min(len(self._hits), offset + size)):
            if i not in self._made:
                self._made[i] = self._project(self._hits[i])
            out.append(self._made[i])
        return out
