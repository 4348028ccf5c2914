"""The preview's files: per object how many attachments the copy would carry and their size, the
user's choice (copy them or leave them out), a target that forbids files, and the limits.

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
from records.copying.request import CopyRequest
from records.copying.tree import Node, Plan


def plan_files(*, plan: Plan, trees: dict[str, list[Node]], request: CopyRequest, conn: Connector) -> None:
    """Set `plan.files` ({"copy", "counted", "objects": [...], "files", "bytes", "forbidden"}) and,
    when files are copied, refuse a plan over a limit or into a profile that forbids files."""
    nodes = [(n.object_name, n.source_id) for tree in trees.values() for n in tree]
    nodes = [n for n in nodes if conn.allows_attachments(n[0])]
    copy = request.options.files
    target = request.target or request.profile
    info: dict[str, Any] = {"copy": copy, "forbidden": bool(target.files_forbidden), "counted": False}
    plan.files = info
    if not nodes or (not copy and len(nodes) > settings.FILES_PREVIEW_MAX_RECORDS):
        info["records"] = len(nodes)
        return
    try:
        found = _read(conn, nodes, request.profile.concurrency)
    except ConnectorError:
        if copy:
            raise  # the copy would carry them: a preview that can't read them fails as any read
        info["records"] = len(nodes)  # only shown: the preview goes on without the counts
        return
    info.update(counted=True, **_totals(found, plan))
    if copy and not plan.refused_reason:
        plan.refused_reason = refusal(info, found, target_name=target.name)


def _read(conn: Connector, nodes: list[tuple[str, str]], concurrency: int) -> list[tuple[str, Attachment]]:
    workers = max(1, min(concurrency, len(nodes)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        lists = pool.map(lambda n: conn.attachments(n[0], n[1]), nodes)
        return [(obj, a) for (obj, _), found in zip(nodes, lists, strict=True) for a in found]


def _totals(found: list[tuple[str, Attachment]], plan: Plan) -> dict[str, Any]:
    labels = {o.object_name: o.label for o in plan.objects}
    per: dict[str, dict[str, Any]] = {}
    for obj, a in found:
        entry = per.setdefault(obj, {"object_name": obj, "label": labels.get(obj, obj), "files": 0, "bytes": 0})
        entry["files"] += 1
        entry["bytes"] += a.size
    for entry in per.values():
        entry["size"] = filesizeformat(entry["bytes"])
    total = sum(a.size for _, a in found)
    return {"objects": list(per.values()), "files": len(found), "bytes": total, "size": filesizeformat(total)}


def refusal(info: dict[str, Any], found: list[tuple[str, Attachment]], *, target_name: str) -> str:
    """Why files can't be copied as chosen, or ""."""
    if info["forbidden"] and info["files"]:
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
    lines = [f"Attachments ({choice}): {_files(files['files'])}, {files['size']}."]
    lines += [f"  {o['label']}: {_files(o['files'])}, {o['size']}" for o in files.get("objects", [])]
    if files.get("forbidden"):
        lines.append("  The target profile does not accept files.")
    return lines


def _files(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n} files"
