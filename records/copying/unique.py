""" "Make unique": a copy refused because a chosen unique field's value exists is sent again with
" (2)", " (3)" ... appended (cut to fit the field), at most MAX_TRIES times, each try kept on the
row (values["_unique_tries"]). Each try goes through the write protocol like the first (SENDING
committed before it; a lost answer reconciled by reconcile.py with the numbered value, never by a
record merely having the same name)."""

from __future__ import annotations

from records.copying import results as res
from records.copying.reconcile import Sent
from records.models import RecordResult

S = RecordResult.Status
MAX_TRIES = 20
TRIES = "_unique_tries"


def numbered(base: str, n: int, max_length: int | None) -> str:
    suffix = f" ({n})"
    if max_length and len(base) + len(suffix) > max_length:
        base = base[: max(0, max_length - len(suffix))]
    return base + suffix


class MakeUnique:
    """Mixed into the Runner: needs self.options, self.connector, self.describe, self.send."""

    def make_unique(self, rows: list[RecordResult], call, sent: Sent) -> None:
        wanted = self.options.unique.get(rows[0].object_name) if rows and sent.payloads else None
        if not wanted:
            return
        infos = {f.name: f for f in self.describe(rows[0].object_name)}
        for row in rows:
            self._retry(row, call, sent, wanted, infos)

    def _retry(self, row, call, sent: Sent, wanted, infos) -> None:
        values = dict(row.values or {})
        tries: list[str] = list(values.get(TRIES, []))
        base = dict(values.get("_unique_base", {}))
        while row.status == S.FAILED and len(tries) < MAX_TRIES:
            name = getattr(row, "duplicate_field", "")
            payload = sent.payloads.get(row.pk, {})
            if name not in wanted or not isinstance(payload.get(name), str):
                return
            base.setdefault(name, payload[name])
            value = numbered(base[name], len(tries) + 2, infos[name].max_length if name in infos else None)
            tries.append(value)
            payload[name] = value  # the call reads its values from the payload
            values.update({name: value, TRIES: tries, "_unique_base": base})
            row.values = dict(values)
            row.status, row.error_type, row.error_message = S.PENDING, "", ""
            row.duplicate_field = ""
            self.send([row], call, sent, unique=False)
        if row.status == S.FAILED and tries:
            res.fail(row, row.error_type, f"{row.error_message} Made unique {len(tries)} times; still a duplicate.")
            res.save([row])
