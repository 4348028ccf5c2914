"""Users of a copy into another profile: the owner and every user field of the copied records,
mapped to the target's users by e-mail (casefolded), or by the user's choice for one without a
match: another target user's e-mail, "@api" (the target profile's API user) or "@refuse" (the
default: the plan is refused). `match_users` is pure; `plan_users` reads both systems' users."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import ValidationError

from records.copying.level_reads import overlapped

if TYPE_CHECKING:
    from records.connectors.base import Connector, UserInfo
    from records.copying.request import CopyRequest
    from records.copying.tree import Node, Plan

API_USER = "@api"
REFUSE = "@refuse"


class Person(Protocol):
    """What matching reads of a user (connectors' UserInfo)."""

    @property
    def id(self) -> str: ...

    @property
    def email(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def active(self) -> bool: ...


@dataclass
class UserMatch:
    mapped: dict[str, str] = field(default_factory=dict)  # {source user id: target user id}
    rows: list[dict[str, Any]] = field(default_factory=list)  # the preview's table, one row a source user
    refused: list[str] = field(default_factory=list)  # source users without a target (their words)


def email_key(email: str) -> str:
    return (email or "").strip().casefold()


def by_email(users: Iterable[Person]) -> dict[str, Person]:
    return {email_key(u.email): u for u in users if email_key(u.email)}


def check_user_map(*, user_map: Mapping[str, str], source: Iterable[Person], target: Iterable[Person]) -> None:
    """Refuse a `--map-user` whose source e-mail is no user of the source, or whose target e-mail
    is no user of the target (the "@api" and "@refuse" choices need no user)."""
    in_source, in_target = by_email(source), by_email(target)
    unknown = [f"{s} (not a user of the source)" for s in user_map if email_key(s) not in in_source]
    unknown += [
        f"{t} (not a user of the target)"
        for t in user_map.values()
        if t not in (API_USER, REFUSE) and email_key(t) not in in_target
    ]
    if unknown:
        raise ValidationError("Unknown e-mail in the user mapping: " + "; ".join(unknown) + ".")


def match_users(
    *,
    held: Mapping[str, int],
    source: Iterable[Person],
    target: Iterable[Person],
    user_map: Mapping[str, str],
    api_user_id: str,
) -> UserMatch:
    """Map each source user of `held` ({source user id: records holding it}) to a target user:
    the user's own choice first, then the same e-mail, else refused."""
    sources = {u.id: u for u in source}
    in_target = by_email(target)
    choices = {email_key(k): v for k, v in user_map.items()}
    out = UserMatch()
    for user_id, records in sorted(held.items()):
        person = sources.get(user_id)
        email = person.email if person else ""
        choice = choices.get(email_key(email), "")
        found = _target_of(choice, in_target.get(email_key(email)), in_target, api_user_id)
        words = f"{person.name} <{email}>" if person else f"user {user_id} (not found in the source)"
        row: dict[str, Any] = {"source": words, "source_id": user_id, "email": email, "records": records}
        row.update(target=found[1], target_id=found[0], how=found[2])
        out.rows.append(row)
        if found[0]:
            out.mapped[user_id] = found[0]
        else:
            out.refused.append(words)
    return out


def _target_of(
    choice: str, same_email: Person | None, in_target: Mapping[str, Person], api_user_id: str
) -> tuple[str, str, str]:
    """(target id, its words, how it was chosen); no id: refused."""
    if choice == API_USER:
        return api_user_id, "the target profile's API user", "chosen"
    chosen = in_target.get(email_key(choice)) if choice and choice != REFUSE else None
    if chosen is not None:
        return chosen.id, f"{chosen.name} <{chosen.email}>", "chosen"
    if same_email is not None and choice != REFUSE:
        words = f"{same_email.name} <{same_email.email}>"
        if not same_email.active:  # records can't be given to a deactivated user: choose another
            return "", f"{words}, inactive", "refused"
        return same_email.id, words, "same e-mail"
    return "", "none", "refused"


def target_choices(target: Iterable[Person]) -> list[dict[str, str]]:
    """The target's active users as the preview's choices ({email, name}, by name): read with the
    plan, so the page offers them without another call."""
    people = [{"email": u.email, "name": u.name or u.email} for u in target if u.active and email_key(u.email)]
    return sorted(people, key=lambda p: (p["name"].casefold(), p["email"].casefold()))


def users_held(records: Iterable[tuple[str, Mapping[str, Any]]], user_fields: Mapping[str, list[str]]) -> Counter[str]:
    """{source user id: records holding it} over (object name, field values) pairs; a value is an
    id or a lookup ({"id": ...})."""
    held: Counter[str] = Counter()
    for object_name, values in records:
        ids = {_user_id(values.get(f)) for f in user_fields.get(object_name, [])}
        held.update(i for i in ids if i)
    return held


def _user_id(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("id")
    return "" if value is None or isinstance(value, bool | list) else str(value).strip()


def users_wanted(*, trees: Mapping[str, list[Node]], request: CopyRequest, source: Connector) -> bool:
    """Whether plan_users reads the orgs' users: a user field held by a copied record, or a mapping given."""
    return bool(request.options.user_map) or bool(_held(trees, source))


def _held(trees: Mapping[str, list[Node]], source: Connector) -> Counter[str]:
    fields = {
        name: [f.name for f in source.describe(name) if f.editable and f.reference_to == source.user_object]
        for name in {n.object_name for nodes in trees.values() for n in nodes}
    }
    return users_held(((n.object_name, n.fields) for nodes in trees.values() for n in nodes), fields)


def plan_users(
    *,
    plan: Plan,
    trees: Mapping[str, list[Node]],
    request: CopyRequest,
    source: Connector,
    target: Connector,
    known: tuple[list[UserInfo], list[UserInfo]] | None = None,
) -> dict[str, str]:
    """{source user id: target user id} for the user fields a copy writes (editable: not Created_By)
    of every copied record; the table goes to plan.cross["users"], the target's active users (the
    choices) to plan.cross["target_users"]; a user left without a target refuses the plan. No user field
    held: no call at all. ValidationError: a `--map-user` e-mail unknown in either org."""
    user_map = request.options.user_map
    held = _held(trees, source)
    if not held and not user_map:
        return {}
    # Both orgs' users at once; `known` when the caller read them already (cross_plan._ahead).
    source_users, target_users = known or overlapped(source, lambda c: c.users(), [source, target])
    check_user_map(user_map=user_map, source=source_users, target=target_users)
    api_user = target.api_user_id() if API_USER in user_map.values() else ""
    found = match_users(held=held, source=source_users, target=target_users, user_map=user_map, api_user_id=api_user)
    plan.cross["users"] = found.rows
    plan.cross["target_users"] = target_choices(target_users)
    plan.cross.setdefault("report", []).extend(
        f"User {r['source']} → {r['target']} ({r['how']}): {r['records']} record(s)" for r in found.rows
    )
    if found.refused and not plan.refused_reason:
        plan.refused_reason = (
            f"No user in the target for: {', '.join(found.refused)}. Map each to a target user "
            "(--map-user SOURCE_EMAIL=TARGET_EMAIL), to the target's API user (=@api), or leave it refused."
        )
    return found.mapped
