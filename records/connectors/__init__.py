"""Build the connector for a connection profile: `connector_for(profile)`."""

from __future__ import annotations

from django.conf import settings

from records.connectors.base import Connector, ProfileConfig

# system -> "module:Class"; imported lazily so one system's module can't break the other.
REGISTRY = {
    "vault": "records.connectors.vault:VaultConnector",
    "zoho": "records.connectors.zoho:ZohoConnector",
}


def connector_class(system: str) -> type[Connector]:
    from importlib import import_module

    module, _, name = REGISTRY[system].partition(":")
    return getattr(import_module(module), name)


def profile_config(profile) -> ProfileConfig:
    return ProfileConfig(
        system=profile.system,
        name=profile.name,
        base_url=profile.base_url,
        accounts_url=profile.accounts_url,
        api_version=profile.api_version,
        username=profile.username,
        secret=profile.secret,
        refresh_token=profile.refresh_token,
        concurrency=profile.concurrency,
        allow_loopback=settings.ALLOW_LOOPBACK_CONNECTIONS,
        client_id=settings.VAULT_CLIENT_ID,
        job_poll_seconds=settings.VAULT_JOB_POLL_SECONDS,
    )


def connector_for(profile) -> Connector:
    from records.tokens import ProfileTokenStore

    return connector_class(profile.system)(profile_config(profile), ProfileTokenStore(profile.pk))
