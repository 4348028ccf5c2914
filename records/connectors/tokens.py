"""The TokenStore of a connection profile: one cached session id / access token in the database,
shared by every worker and refreshed under a row lock so concurrent workers mint it once."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from records.connectors.base import Mint
from records.models import ConnectionProfile


class ProfileTokenStore:
    """Remembers the token in memory after the first read: a token stays usable until it expires
    or the remote side refuses it, and both lead to refresh(), which reads the database under the
    lock again. So a connector makes one token read per job, not one per API call."""

    def __init__(self, profile_id: int):
        self.profile_id = profile_id
        self._cached: tuple[str, dt.datetime | None] | None = None

    def get(self) -> tuple[str, dt.datetime | None]:
        if self._cached is None:
            row = ConnectionProfile.objects.only("session_token", "session_expires_at").get(pk=self.profile_id)
            self._cached = (row.session_token, row.session_expires_at)
        return self._cached

    def refresh(self, stale: str, mint: Mint) -> str:
        # The network call happens inside the transaction on purpose: the row lock is what makes
        # the other workers wait for this token instead of minting their own (Zoho caps mints).
        with transaction.atomic():
            row = (
                ConnectionProfile.objects.select_for_update()
                .only("session_token", "session_expires_at")
                .get(pk=self.profile_id)
            )
            if row.session_token and row.session_token != stale:
                self._cached = (row.session_token, row.session_expires_at)
                return row.session_token
            token, expires_at = mint()
            # update() runs the field's get_prep_value itself: pass the plain token, or it is
            # encrypted twice and get() hands back ciphertext.
            ConnectionProfile.objects.filter(pk=self.profile_id).update(
                session_token=token,
                session_expires_at=expires_at,
            )
        self._cached = (token, expires_at)
        return token
