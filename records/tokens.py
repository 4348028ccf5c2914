"""The TokenStore of a connection profile: one cached session id / access token in the database,
shared by every worker and refreshed under a row lock so concurrent workers mint it once."""

from __future__ import annotations

from django.db import transaction

from records.models import ConnectionProfile


class ProfileTokenStore:
    def __init__(self, profile_id: int):
        self.profile_id = profile_id

    def get(self):
        row = ConnectionProfile.objects.only("session_token", "session_expires_at").get(pk=self.profile_id)
        return row.session_token, row.session_expires_at

    def refresh(self, stale, mint):
        # The network call happens inside the transaction on purpose: the row lock is what makes
        # the other workers wait for this token instead of minting their own (Zoho caps mints).
        with transaction.atomic():
            row = (
                ConnectionProfile.objects.select_for_update()
                .only("session_token", "session_expires_at")
                .get(pk=self.profile_id)
            )
            if row.session_token and row.session_token != stale:
                return row.session_token
            token, expires_at = mint()
            # update() runs the field's get_prep_value itself: pass the plain token, or it is
            # encrypted twice and get() hands back ciphertext.
            ConnectionProfile.objects.filter(pk=self.profile_id).update(
                session_token=token,
                session_expires_at=expires_at,
            )
            return token
