"""The reference boxes' search-as-you-type: records of an object, or the system's users, whose
name matches what was typed (web/views/new_copy.record_lookup)."""

from __future__ import annotations

from records.connectors.base import Connector
from records.copying.remote_checks import is_user_target


def lookup_matches(*, connector: Connector, object_name: str, query: str, limit: int) -> list[tuple[str, str]]:
    """(id, name) pairs, at most `limit`: one search of the object's records, or for a user
    reference one read of the users, matched by name or e-mail and sorted by name."""
    if is_user_target(object_name):
        return _matching_users(connector, query, limit)
    page = connector.search(object_name, query, page=1, per_page=limit)
    return [(r.id, r.name or r.id) for r in page.records]


def _matching_users(connector: Connector, query: str, limit: int) -> list[tuple[str, str]]:
    # A CRM has tens of users, not thousands: one read, matched here (the Users API has no search).
    wanted = query.casefold()
    found = [
        (u.id, u.name or u.email or u.id)
        for u in connector.users()
        if u.active and (wanted in u.name.casefold() or wanted in u.email.casefold())
    ]
    return sorted(found, key=lambda pair: pair[1].casefold())[:limit]
