"""The org (or vault) a profile reaches, as the system names it: Zoho's org id (a data centre's API
domain is shared by all its orgs, so the base URL can't tell two apart), Vault's vaultId. Learned
the first time a connector is at hand (the connection test, a copy into another profile's plan)
and kept on the profile; the ids the app knows are scoped by it (copying/known.py)."""

from __future__ import annotations

import logging

from records.connectors.base import Connector
from records.connectors.errors import ConnectorError
from records.models import ConnectionProfile

log = logging.getLogger(__name__)
MAX_LENGTH = 64  # ConnectionProfile.org_id


def profile_learn_org_id(*, profile: ConnectionProfile, connector: Connector) -> str:
    """The profile's org id: the stored one, else asked of `connector` (one call at most) and stored.
    "" when the system doesn't say or the call fails: the scope then falls back to the base URL."""
    if profile.org_id:
        return profile.org_id
    try:
        found = connector.org_id()[:MAX_LENGTH]
    except ConnectorError as exc:
        log.warning("Could not read the org id of profile %s: %s", profile.pk, exc.message)
        return ""
    if found:
        # Only over an unknown one: a profile whose credentials changed meanwhile has it cleared.
        ConnectionProfile.objects.filter(pk=profile.pk, org_id="").update(org_id=found)
        profile.org_id = found
    return found
