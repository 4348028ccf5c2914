"""Asking the remote for a batch's look-ups together (reconcile.py): one find_among for the
look-ups that share their compared fields and user, not one find per row; and, where rows are told
apart by the values their copies inherit, those values in the same answer, not one read per
candidate."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from records.connectors.base import Connector, Record
from records.connectors.errors import Rejected
from records.copying.references import ref_id


@dataclass(frozen=True)
class Lookup:
    """How one row's copy is looked for: `equals` asked of the remote (with the creation time and
    user), `compare` the values a candidate must not contradict, checked here."""

    equals: dict[str, str]
    compare: dict[str, Any]
    since: dt.datetime | None
    created_by: str

    def query(self) -> str:
        return json.dumps([self.equals, str(self.since), self.created_by], sort_keys=True)


def prefetch(
    connector: Connector,
    object_name: str,
    lookups: list[Lookup],
    *,
    wide: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, list[Record]]:
    """{Lookup.query(): what the remote answers to it} for look-ups that share their compared
    fields and user, asked together: one find_among over the values of the field that tells them
    apart most (from the earliest creation time among them), each look-up's records then picked
    here. Picked as loosely as a remote may compare (case and runs of spaces aside): a record the
    remote would find for a row is never missed, which would send it again. A look-up asked alone
    or one whose list the system refuses (Notes) is not in the answer: `candidates` asks it alone.

    `wide`: {query: the fields its rows are told apart by}. Those fields come in the answer
    (`also`), so that many rows of one look-up are told apart without reading each candidate;
    such a look-up is asked here even alone (a find returns only the fields it compares)."""
    wide = wide or {}
    groups: dict[tuple[tuple[str, ...], str], list[Lookup]] = {}
    for lookup in lookups:
        if lookup.equals:
            groups.setdefault((tuple(sorted(lookup.equals)), lookup.created_by), []).append(lookup)
    out: dict[str, list[Record]] = {}
    for (names, user), group in groups.items():
        widened = [g.query() for g in group if g.query() in wide]
        if len(group) < 2 and not widened:
            continue
        listed = max(names, key=lambda n: len({g.equals[n] for g in group}))  # the most telling: a name
        also = [*(n for n in names if n != listed), *(f for q in widened for f in wide[q] if f != listed)]
        since = None if any(g.since is None for g in group) else min(g.since for g in group if g.since)
        try:
            found = connector.find_among(
                object_name,
                listed,
                [g.equals[listed] for g in group],
                also=list(dict.fromkeys(also)),
                created_since=since,
                created_by=user,
            )
        except Rejected:  # the list refused (Notes; a system that takes no IN on this field)
            continue
        for lookup in group:
            out[lookup.query()] = [r for r in found if all(_alike(r.fields, k, v) for k, v in lookup.equals.items())]
    return out


def _alike(fields: dict[str, Any], name: str, value: str) -> bool:
    """A record's value is the look-up's as a remote may compare them; an absent one may be (kept)."""
    if name not in fields:
        return True
    return loose_text(ref_id(fields[name])) == loose_text(ref_id(value) or value)


def loose_text(value: Any) -> str:
    """A value as a remote compares text: case and runs of spaces aside."""
    return " ".join(str(value).split()).casefold()
