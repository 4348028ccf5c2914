"""A small read-only HTML page of one record, served at the links the app shows ("open in Vault",
"open in Zoho CRM"), so that demo links open something real instead of a JSON error.

Vault's UI links are `/ui/#object/{object}/{id}`: the fragment never reaches a server, so `/ui/`
answers a shell whose script (a file, not inline) moves the browser to `/ui/object/{object}/{id}`,
which this module renders. Zoho's links are `/crm/tab/{module}/{id}` and are rendered directly.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from wsgiref.types import StartResponse

if TYPE_CHECKING:
    from sandbox.vault_state import VaultState
    from sandbox.zoho_state import ZohoState

UI_SHELL = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vault sandbox</title>
<script src="/ui/open.js"></script></head>
<body><main><h1>Vault sandbox</h1><p>Opening the record&hellip;</p>
<noscript><p>Open <code>/ui/object/OBJECT/ID</code> to see a record.</p></noscript></main></body></html>
"""
# "#object/product__v/V0P000000000001" -> "/ui/object/product__v/V0P000000000001"
OPEN_JS = b"""var m = /^#object\\/([^\\/]+)\\/([^\\/?]+)/.exec(window.location.hash);
if (m) { window.location.replace('/ui/object/' + m[1] + '/' + m[2]); }
"""


def _text(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "\u2014"
    if isinstance(value, dict):  # Zoho lookups {"name", "id"}
        name, rid = value.get("name"), value.get("id")
        return f"{name} ({rid})" if name and rid else str(name or rid or json.dumps(value))
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


def record_html(*, system: str, object_name: str, title: str, fields: dict[str, Any]) -> bytes:
    rows = "".join(
        f'<tr><th scope="row">{html.escape(name)}</th><td>{html.escape(_text(value))}</td></tr>'
        for name, value in fields.items()
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} · {html.escape(system)} sandbox</title></head><body><main>"
        f"<p>{html.escape(system)} sandbox · {html.escape(object_name)} (read-only)</p>"
        f"<h1>{html.escape(title)}</h1>"
        f"<table><tbody>{rows}</tbody></table></main></body></html>\n"
    ).encode()


def not_found_html(what: str) -> bytes:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>'
        f"<body><main><h1>Not found</h1><p>{html.escape(what)}</p></main></body></html>\n"
    ).encode()


def send(
    start_response: StartResponse, status: str, body: bytes, content_type: str = "text/html; charset=utf-8"
) -> Iterable[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def vault_ui(state: VaultState, path: str, start_response: StartResponse) -> Iterable[bytes]:
    """Answer `/ui/...` of the Vault emulator."""
    if path.rstrip("/") == "/ui":
        return send(start_response, "200 OK", UI_SHELL)
    if path == "/ui/open.js":
        return send(start_response, "200 OK", OPEN_JS, "text/javascript; charset=utf-8")
    parts = path.strip("/").split("/")
    if len(parts) == 4 and parts[1] == "object":
        obj, rid = parts[2], parts[3]
        with state.lock:
            rec = dict(state.records.get(obj, {}).get(rid) or {})
        if rec:
            title = str(rec.get("name__v") or rid)
            return send(start_response, "200 OK", record_html(system="Vault", object_name=obj, title=title, fields=rec))
    return send(start_response, "404 Not Found", not_found_html(f"No such record: {path}"))


def zoho_tab(state: ZohoState, path: str, start_response: StartResponse) -> Iterable[bytes]:
    """Answer `/crm/tab/{module}/{id}` of the Zoho emulator."""
    parts = path.strip("/").split("/")
    if len(parts) == 4:
        module, rid = parts[2], parts[3]
        with state.lock:
            mod = state.module(module)
            rec = state.get(module, rid) if mod else None
            fields = state.render(module, rec, single=True) if rec else None
        if fields and mod is not None:
            title = str(fields.get(mod.name_field) or rid)
            shown = {k: v for k, v in fields.items() if not k.startswith("$")}
            return send(
                start_response, "200 OK", record_html(system="Zoho CRM", object_name=module, title=title, fields=shown)
            )
    return send(start_response, "404 Not Found", not_found_html(f"No such record: {path}"))
