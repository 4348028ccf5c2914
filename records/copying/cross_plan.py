"""The plan of a copy into another profile: after the trees are read in the source, the
references outside them are matched in the target (plan.cross), and what won't fit, the records
already there and the users are found, before anything is written.

plan.cross: "refs" {object: {source id: target id}} (what the run points references at; kept in
job.state["refs"]), "unmatched" {object: {source id: why}} (of the objects whose records fail),
"references" {object: {key, matched, unmatched, examples, policy}}, "report"
(lines the CLI prints), and the other packages' "schema", "existing", "users" (with "target_users"), "query"."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, cast

from records.connectors.base import Connector, UserInfo
from records.connectors.errors import ConnectorError
from records.copying import existing, matching, schema_diff, users
from records.copying.level_reads import overlapped
from records.copying.mask_preview import mask_set
from records.copying.request import CopyRequest
from records.copying.tree import Node, Plan
from records.profiles.org_ids import profile_learn_org_id

EXAMPLES = 3  # unmatched references named per object in the refusal and the report


def plan_cross(
    *, plan: Plan, trees: dict[str, list[Node]], request: CopyRequest, source: Connector, target: Connector
) -> None:
    """Fill plan.cross; refuse the plan when an object's unmatched references say "refuse"."""
    _fill_clone_fields(source, request, trees)
    known_users = _ahead(source, target, request, trees)
    options = request.options
    matching.check_match_options(target=target, match=options.match)
    wanted = matching.outside_references(source=source, trees=trees)
    wanted.pop(source.user_object, None)  # users are mapped by e-mail (users.py), not by a key
    keys = {o: matching.match_key(target=target, object_name=o, chosen=options.match.get(o, "")) for o in wanted}
    found = matching.resolve(source=source, target=target, wanted=wanted, keys=keys, masks=mask_set(request, target))
    plan.cross["refs"] = found.mapped
    # Why each reference of a "fail" object has no match: its record's row says so (cross_copy.py).
    plan.cross["unmatched"] = {
        o: {i: why for i, _, why in rows} for o, rows in found.unmatched.items() if options.unmatched_for(o) == "fail"
    }
    plan.cross["references"] = {
        o: {
            **_reference_row(o, keys[o], found, options.unmatched_for(o), len(wanted[o])),
            **_key_offer(target, o, options.match.get(o, "")),
        }
        for o in sorted(wanted)
    }
    plan.cross["report"] = _report(plan.cross["references"])
    plan.way = _way_words(request, target)
    refusal = _refusal(plan.cross["references"])
    plan.refused_reason = plan.refused_reason or refusal
    schema_diff.compare(plan=plan, trees=trees, source=source, target=target)
    existing.plan_existing(plan=plan, trees=trees, request=request, source=source, target=target)
    user_ids = users.plan_users(
        plan=plan, trees=trees, request=request, source=source, target=target, known=known_users
    )
    if user_ids:
        plan.cross["refs"].setdefault(target.user_object, {}).update(user_ids)


def _ahead(
    source: Connector, target: Connector, request: CopyRequest, trees: dict[str, list[Node]]
) -> tuple[list[UserInfo], list[UserInfo]] | None:
    """What the steps below ask and needs nothing of them, asked at once (one latency, not one
    each): both orgs' ids (they scope the ids the app knows), the target's fields of every object
    of the trees (the connector keeps them for the matching, the schema comparison and the
    existing records' pass) and, when the users are mapped, both orgs' users (handed back)."""
    calls: list[Callable[[], object]] = [lambda: profile_learn_org_id(profile=request.profile, connector=source)]
    if request.target is not None:
        target_profile = request.target
        calls.append(lambda: profile_learn_org_id(profile=target_profile, connector=target))
    objects = sorted({n.object_name for nodes in trees.values() for n in nodes})
    calls += [partial(_describe_or_skip, target, o) for o in objects]
    read_users = users.users_wanted(trees=trees, request=request, source=source)
    if read_users:
        calls += [source.users, target.users]
    answers = overlapped(target, lambda call: call(), calls)
    return (cast(list[UserInfo], answers[-2]), cast(list[UserInfo], answers[-1])) if read_users else None


def _describe_or_skip(target: Connector, object_name: str) -> None:
    try:
        target.describe(object_name)
    except ConnectorError:
        pass  # asked again, and answered as it answers, where the comparison needs it


def _fill_clone_fields(source: Connector, request: CopyRequest, trees: dict[str, list[Node]]) -> None:
    """A clone's nodes carry names only; an insert in another org needs every value: read them
    (one call a record, as a clone's root is read today)."""
    for nodes in trees.values():
        for node in nodes:
            if not node.fields:
                node.fields = source.get(node.object_name, node.source_id).fields


def _key_offer(target: Connector, object_name: str, chosen: str) -> dict[str, Any]:
    """What the preview's match-key select offers: "keys" [[field, label]] usable in the target and
    "default_key", the one used when the user names none (metadata only: describes are cached)."""
    default = matching.match_key(target=target, object_name=object_name)
    return {
        "keys": [list(k) for k in matching.key_choices(target=target, object_name=object_name)],
        "default_key": default.field if default else "",
        "chosen_key": chosen,
    }


def _reference_row(
    object_name: str, key: matching.MatchKey | None, found: matching.Resolution, policy: str, total: int
) -> dict[str, Any]:
    unmatched = found.unmatched.get(object_name, [])
    return {
        "key": key.field if key else "",
        "records": total,
        "matched": len(found.mapped.get(object_name, {})),
        "unmatched": len(unmatched),
        "examples": [{"id": i, "value": v, "why": why} for i, v, why in unmatched[:EXAMPLES]],
        "policy": policy,
    }


def _report(references: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for object_name, row in references.items():
        by = f" by {row['key']}" if row["key"] else ""
        line = f"References to {object_name}: {row['matched']} of {row['records']} matched in the target{by}"
        if row["unmatched"]:
            then = {"blank": "left empty", "fail": "their records fail", "refuse": "the copy is refused"}[row["policy"]]
            line += f"; {row['unmatched']} unmatched ({then}): " + _examples(row)
        lines.append(line + ".")
    return lines


def _examples(row: dict[str, Any]) -> str:
    shown = "; ".join(f"{e['id']} ({e['why']})" for e in row["examples"])
    more = row["unmatched"] - len(row["examples"])
    return shown + (f" and {more} more" if more > 0 else "")


def _refusal(references: dict[str, dict[str, Any]]) -> str:
    refused = [(o, r) for o, r in references.items() if r["unmatched"] and r["policy"] == "refuse"]
    if not refused:
        return ""
    parts = [f"{r['unmatched']} {o} with no match in the target: {_examples(r)}" for o, r in refused]
    return (
        "References outside the copy have no match in the target profile: "
        + "; ".join(parts)
        + ". Name another field to match them by (--match OBJECT:FIELD), or choose to leave them empty "
        "(--unmatched OBJECT:blank) or to fail those records (--unmatched OBJECT:fail)."
    )


def _way_words(request: CopyRequest, target: Connector) -> str:
    name = request.target.name if request.target else "the target"
    return (
        f"Copied into {name}: read here, inserted there by Record Copier level by level, "
        f"{target.batch_size} a call, references outside the copy pointed at the records matched there."
    )
