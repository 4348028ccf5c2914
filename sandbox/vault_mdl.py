"""The Vault emulator's Execute MDL Script (`POST /api/mdl/execute`), for the one kind of statement a
client adds a field with: `ALTER Object {object} (ADD Field {field} (attribute(value), ...));`.

Documented shapes: the script is the raw body and must start with CREATE, RECREATE, RENAME, ALTER
or DROP; the answer has `script_execution` {code, message, warnings, failures, exceptions,
components_affected, execution_time} and one `statement_execution` entry per statement {vault,
statement, command, component, message, response}, with `errors` [{line, message, context, code}]
when it failed (https://general.veevavault.dev/vault-api/api-reference/26.1/metadata-definition-language-mdl/execute-mdl-script/,
MDL "Errors" and "ALTER"). [UNCONFIRMED] the error codes and messages of a syntax error, an unknown
object and an existing field: modelled on the documented "Component already exists with attribute
[name], value [color__c]" (GEN-FCRE-II-1007); clients must not rely on them (the docs say so).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sandbox.vault_schema import FieldDef

if TYPE_CHECKING:
    from sandbox.vault_state import VaultState

COMMANDS = ("CREATE", "RECREATE", "RENAME", "ALTER", "DROP")
# The Field attributes this emulator understands (those of an object field's metadata); any other
# attribute is refused, as Vault refuses an attribute a component type does not have.
FIELD_ATTRIBUTES = {"label", "type", "active", "required", "unique", "max_length", "no_copy", "list_column"}
MAX_STRING_LENGTH = 1500
_TOKEN = re.compile(r"\s*(?:(?P<str>'[^']*')|(?P<word>[A-Za-z_][A-Za-z0-9_.]*)|(?P<num>\d+)|(?P<punct>[(),;]))")


class MdlError(Exception):
    def __init__(self, code: str, message: str, context: str = ""):
        super().__init__(message)
        self.code, self.message, self.context = code, message, context


def execute(state: VaultState, script: str, vault: str) -> dict[str, Any]:
    """Run `script` against the emulator's schema; return the answer's payload."""
    command, component = _head(script)
    try:
        target, field = _parse_alter(script)
        component = f"Object.{target}"
        with state.lock:
            _add_field(state, target, field)
    except MdlError as exc:
        return _answer(vault, command, component, exc)
    return _answer(vault, command, component, None)


def _head(script: str) -> tuple[str, str]:
    words = script.split(None, 3)
    command = words[0].upper() if words else ""
    component = f"{words[1]}.{words[2].split('(')[0]}" if len(words) >= 3 else ""
    return command, component


def _answer(vault: str, command: str, component: str, error: MdlError | None) -> dict[str, Any]:
    ok = error is None
    statement = {
        "vault": vault,
        "statement": 1,
        "command": command,
        "component": component,
        "message": f"[{'SUCCESS' if ok else 'FAILURE'}] {command} {component.replace('.', ' ', 1)}",
        "response": "SUCCESS" if ok else "FAILURE",
    }
    if error is not None:
        statement["errors"] = [{"line": 1, "message": error.message, "context": error.context, "code": error.code}]
    return {
        "responseStatus": "SUCCESS" if ok else "FAILURE",
        "script_execution": {
            "code": "GEN-S-0" if ok else "GEN-F-401",
            "message": "OK" if ok else "Script execution failed",
            "warnings": 0,
            "failures": 0 if ok else 1,
            "exceptions": 0,
            "components_affected": 1 if ok else 0,
            "execution_time": 0.01,
        },
        "statement_execution": [statement],
    }


def _tokens(script: str) -> list[tuple[str, str]]:
    out, pos, text = [], 0, script.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise MdlError("GEN-F-1000", f"Syntax error near [{text[pos : pos + 20].strip()}]")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Reader:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens, self.at = tokens, 0

    def next(self, kind: str = "", value: str = "") -> str:
        if self.at >= len(self.tokens):
            raise MdlError("GEN-F-1000", "Syntax error: the statement ends too early")
        got_kind, got = self.tokens[self.at]
        if (kind and got_kind != kind) or (value and got.upper() != value.upper()):
            raise MdlError("GEN-F-1000", f"Syntax error near [{got}]: expected {value or kind}")
        self.at += 1
        return got

    def peek(self) -> str:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else ""


def _parse_alter(script: str) -> tuple[str, dict[str, Any]]:
    """(object name, {field name, attributes}) of `ALTER Object o (ADD Field f (...));`."""
    read = _Reader(_tokens(script))
    command = read.next("word").upper()
    if command not in COMMANDS:
        raise MdlError("GEN-F-1000", f"The script must start with one of {', '.join(COMMANDS)}")
    if command != "ALTER":
        raise MdlError("GEN-F-1001", f"{command} is not supported by this sandbox; only ALTER Object ... ADD Field")
    read.next("word", "Object")
    target = read.next("word")
    read.next("punct", "(")
    read.next("word", "ADD")
    read.next("word", "Field")
    name = read.next("word")
    read.next("punct", "(")
    attributes = {}
    while read.peek() != ")":
        attribute = read.next("word")
        read.next("punct", "(")
        attributes[attribute] = _value(read) if read.peek() != ")" else None
        read.next("punct", ")")
        if read.peek() == ",":
            read.next("punct", ",")
    read.next("punct", ")")
    read.next("punct", ")")
    if read.peek() == ";":
        read.next("punct", ";")
    if read.peek():
        raise MdlError("GEN-F-1001", "This sandbox runs one statement a script")
    return target, {"name": name, **attributes}


def _value(read: _Reader) -> str | int | bool:
    kind, text = read.tokens[read.at] if read.at < len(read.tokens) else ("", "")
    read.next()
    if kind == "str":
        return text[1:-1]
    if kind == "num":
        return int(text)
    if text in ("true", "false"):
        return text == "true"
    raise MdlError("GEN-F-1000", f"Syntax error: [{text}] is not a value")


def _add_field(state: VaultState, target: str, spec: dict[str, Any]) -> None:
    objdef = state.schema.get(target)
    if objdef is None:
        raise MdlError("GEN-FALT-II-1001", f"Component [Object.{target}] does not exist", "name")
    name = spec.pop("name")
    if objdef.get(name) is not None:
        raise MdlError("GEN-FALT-II-1007", f"Subcomponent already exists with attribute [name], value [{name}]", "name")
    unknown = sorted(set(spec) - FIELD_ATTRIBUTES)
    if unknown:
        raise MdlError("GEN-FALT-II-1010", f"Unknown attribute [{unknown[0]}] for Field", unknown[0])
    if not name.endswith("__c"):
        raise MdlError("GEN-FALT-II-1011", f"A custom field name must end with __c: [{name}]", "name")
    if spec.get("type") != "String" or not isinstance(spec.get("label"), str) or not spec["label"]:
        raise MdlError("GEN-FALT-II-1012", "This sandbox adds String fields with a label", "type")
    length = spec.get("max_length") or 100
    if not isinstance(length, int) or not 1 <= length <= MAX_STRING_LENGTH:
        raise MdlError("GEN-FALT-II-1013", f"max_length must be 1 to {MAX_STRING_LENGTH}", "max_length")
    field = FieldDef(
        name,
        spec["label"],
        "String",
        required=bool(spec.get("required")),
        unique=bool(spec.get("unique")),
        no_copy=bool(spec.get("no_copy")),
        max_length=length,
    )
    state.schema[target] = replace(objdef, fields=(*objdef.fields, field), by_name={})
    if field.unique:
        state.unique[target][name] = {}
    for rec in state.records[target].values():
        rec.setdefault(name, None)
