"""The preview's files: per object how many attachments and files in file fields the copy would
carry and their size (file fields: preview_file_fields.py), the user's choice (copy them or leave them out), a target that forbids files, and the limits.

Neither system lists the attachments of many records in one call (Vault's Retrieve Object Record
Attachments and Zoho's Get Attachments are per record, docs/files-api.md): so one call per record
of the plan, up to the profile's concurrency at once (the connector's gate still bounds what is
in flight). A tree larger than FILES_PREVIEW_MAX_RECORDS is counted only when the user chose to
copy files (then the counts are what the limits are checked against); otherwise the preview says
it did not count them, so a big preview is not slowed by files it will leave out.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from records.connectors.base import Attachment, Connector
from records.connectors.errors import ConnectorError
from records.copying import preview_file_fields
from records.copying.preview_file_fields import FieldFile
from records.copying.request import CopyRequest
from records.copying.tree import Node, Plan


def plan_files(*, plan: Plan, trees: dict[str, list[Node]], request: CopyRequest, conn: Connector) -> None:
    """Set `plan.files` ({"copy", "counted", "objects": [...], "files", "field_files", "bytes",
    "forbidden"}) and, when files are copied, refuse a plan over a limit or into a profile that
    forbids files."""
    every = [n for tree in trees.values() for n in tree]
    attached = [n for n in every if conn.allows_attachments(n.object_name)]
    field_names = preview_file_fields.names_by_object(conn, every, request)
    with_fields = [n for n in every if n.object_name in field_names]
    copy = request.options.files
    target = request.target or request.profile
    info: dict[str, Any] = {"copy": copy, "forbidden": bool(target.files_forbidden), "counted": False}
    plan.files = info
    records = _distinct(attached, with_fields)
    if not records or (not copy and records > settings.FILES_PREVIEW_MAX_RECORDS):
        info["records"] = records
        return
    try:
        found, in_fields = _read(conn, attached, with_fields, field_names, request.profile.concurrency)
    except ConnectorError:
        if copy:
            raise  # the copy would carry them: a preview that can't read them fails as any read
        info["records"] = records  # only shown: the preview goes on without the counts
        return
    info.update(counted=True, **_totals(found, in_fields, plan))
    if copy and not plan.refused_reason:
        plan.refused_reason = refusal(info, found, target_name=target.name)


def _distinct(*groups: list[Node]) -> int:
    """The records among `groups`, each once (kept per object: no tuple a record of 100,000)."""
    ids: dict[str, set[str]] = {}
    for group in groups:
        for n in group:
            ids.setdefault(n.object_name, set()).add(n.source_id)
    return sum(len(s) for s in ids.values())


def _read(
    conn: Connector, attached: list[Node], with_fields: list[Node], names: dict[str, list[str]], concurrency: int
) -> tuple[list[tuple[str, Attachment]], list[FieldFile]]:
    workers = max(1, min(concurrency, len(attached) + len(with_fields)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        lists = pool.map(lambda n: conn.attachments(n.object_name, n.source_id), attached)
        fields = pool.map(lambda n: preview_file_fields.record_files(conn, n, names[n.object_name]), with_fields)
        found = [(n.object_name, a) for n, got in zip(attached, lists, strict=True) for a in got]
        return found, [f for got in fields for f in got]


def _totals(found: list[tuple[str, Attachment]], in_fields: list[FieldFile], plan: Plan) -> dict[str, Any]:
    labels = {o.object_name: o.label for o in plan.objects}
    per: dict[str, dict[str, Any]] = {}

    def entry(obj: str) -> dict[str, Any]:
        blank = {"object_name": obj, "label": labels.get(obj, obj), "files": 0, "bytes": 0, "field_files": 0}
        return per.setdefault(obj, {**blank, "field_bytes": 0, "unsized": 0})

    for obj, a in found:
        entry(obj)["files"] += 1
        entry(obj)["bytes"] += a.size
    for f in in_fields:
        entry(f.object_name)["field_files"] += 1
        entry(f.object_name)["field_bytes"] += f.size or 0
        entry(f.object_name)["unsized"] += f.size is None
    for e in per.values():
        e.update(size=filesizeformat(e["bytes"]), field_size=filesizeformat(e["field_bytes"]))
    attached = sum(a.size for _, a in found)
    in_field_bytes = sum(f.size or 0 for f in in_fields)
    total = attached + in_field_bytes  # what the job carries: the limit per job counts both
    return {
        "objects": list(per.values()),
        "files": len(found),
        "attached_size": filesizeformat(attached),
        "field_files": len(in_fields),
        "field_size": filesizeformat(in_field_bytes),
        "unsized": sum(f.size is None for f in in_fields),
        "bytes": total,
        "size": filesizeformat(total),
    }


def refusal(info: dict[str, Any], found: list[tuple[str, Attachment]], *, target_name: str) -> str:
    """Why files can't be copied as chosen, or ""."""
    if info["forbidden"] and (info["files"] or info.get("field_files")):
        return f"{target_name} does not accept files: leave attachments out to copy these records."
    biggest = max((a for _, a in found), key=lambda a: a.size, default=None)
    if biggest is not None and biggest.size > settings.FILES_MAX_FILE_BYTES:
        return (
            f"The file {biggest.name} ({filesizeformat(biggest.size)}) is larger than one file may be "
            f"({filesizeformat(settings.FILES_MAX_FILE_BYTES)}): leave attachments out, or copy fewer records."
        )
    if info["bytes"] > settings.FILES_MAX_JOB_BYTES:
        return (
            f"The files come to {filesizeformat(info['bytes'])}, more than one copy may carry "
            f"({filesizeformat(settings.FILES_MAX_JOB_BYTES)}): leave attachments out, or copy fewer records."
        )
    return ""


def summary_lines(files: dict[str, Any]) -> list[str]:
    """The plan's files in words, one line each (the CLI's --preview, the job page)."""
    if not files:
        return []
    choice = "copied" if files.get("copy") else "left out"
    if not files.get("counted"):
        if not files.get("records"):
            return []
        return [f"Attachments: not counted for {files['records']} records ({choice}; --attachments counts them)."]
    # Plans stored before file fields were counted have no "attached_size": their size is the attachments'.
    lines = [f"Attachments ({choice}): {_files(files['files'])}, {files.get('attached_size', files['size'])}."]
    objects = files.get("objects", [])
    lines += [f"  {o['label']}: {_files(o['files'])}, {o['size']}" for o in objects if o["files"]]
    if files.get("field_files"):
        lines.append(f"File fields ({choice}): {_files(files['field_files'])}, {files['field_size']}{_unsized(files)}.")
        lines += [
            f"  {o['label']}: {_files(o['field_files'])}, {o['field_size']}{_unsized(o)}"
            for o in objects
            if o.get("field_files")
        ]
    if files.get("forbidden"):
        lines.append("  The target profile does not accept files.")
    return lines


def _unsized(counts: dict[str, Any]) -> str:
    n = counts.get("unsized", 0)
    return f" ({n} of unknown size)" if n else ""


def _files(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n} files"
