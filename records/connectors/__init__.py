"""Build the connector for a connection profile: `connector_for(profile)`."""

from __future__ import annotations

import functools
import logging
import threading
from importlib import import_module
from typing import TYPE_CHECKING, Any

from django.conf import settings

from records.connectors.base import Connector, ProfileConfig

if TYPE_CHECKING:  # the models import nothing from here; this keeps it that way at run time
    from records.models import ConnectionProfile

log = logging.getLogger(__name__)

# system -> "module:Class"; imported lazily so one system's module can't break the other.
REGISTRY = {
    "vault": "records.connectors.vault:VaultConnector",
    "zoho": "records.connectors.zoho:ZohoConnector",
}


def connector_class(system: str) -> type[Connector]:
    module, _, name = REGISTRY[system].partition(":")
    cls: type[Connector] = getattr(import_module(module), name)
    return cls


def user_objects() -> frozenset[str]:
    """What each system's user references point at (Connector.user_object: Zoho's Users module,
    Vault's user__sys): their lookups search the users, not records."""
    return _user_objects(tuple(REGISTRY.items()))


@functools.cache
def _user_objects(registry: tuple[tuple[str, str], ...]) -> frozenset[str]:
    # Keyed by the registry's entries: an answer kept from another registry (a test's stand-in
    # connector) must not outlive it.
    return frozenset(connector_class(system).user_object for system, _ in registry)


def profile_config(profile: ConnectionProfile) -> ProfileConfig:
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


def connector_for(profile: ConnectionProfile) -> Connector:
    # Imported here, not at the top: the token store is a model's rows, and the connector modules
    # (which import this package first) must load without Django's apps, e.g. in the sandbox.
    from records.connectors.tokens import ProfileTokenStore

    cls = connector_class(profile.system)
    kwargs = {"redis": limiter_redis()} if getattr(cls, "shared_slots", False) else {}
    connector = cls(profile_config(profile), ProfileTokenStore(profile.pk), **kwargs)
    if settings.BUILT_DEEP_COPY_MAX_RECORDS and not connector.native_deep_copy:
        connector.max_deep_copy_records = settings.BUILT_DEEP_COPY_MAX_RECORDS
    return connector


# Seconds to connect to / wait for the limiter's Redis when django-rq's config sets none: an
# unreachable Redis must cost a call a moment, not the OS's connect timeout.
LIMITER_CONNECT_TIMEOUT = 1.0
LIMITER_SOCKET_TIMEOUT = 2.0

_LIMITER: dict[str, object] = {}
_LIMITER_LOCK = threading.Lock()
_limiter_warned = False


def limiter_redis() -> Any:
    """The Redis connection of the concurrency slots: django-rq's "default" one (the Redis the
    workers already share), one client and pool per configuration and process. None (the
    connectors then limit per process) when it cannot even be configured; an unreachable Redis is
    handled per call by RedisSlots, so nothing here touches the network."""
    global _limiter_warned
    try:
        import django_rq  # here, not at the top: the connectors load without Django set up

        config = settings.RQ_QUEUES["default"]
        cache_key = repr(sorted(config.items()))
        with _LIMITER_LOCK:
            conn = _LIMITER.get(cache_key)
            if conn is None:
                conn = django_rq.get_connection("default")  # a fresh client and pool, ours alone
                kwargs = conn.connection_pool.connection_kwargs
                if kwargs.get("socket_connect_timeout") is None:
                    kwargs["socket_connect_timeout"] = LIMITER_CONNECT_TIMEOUT
                if kwargs.get("socket_timeout") is None:
                    kwargs["socket_timeout"] = LIMITER_SOCKET_TIMEOUT
                _LIMITER[cache_key] = conn
            return conn
    except Exception as exc:  # a misconfigured queue must not stop copies; the limit stays local
        if not _limiter_warned:
            _limiter_warned = True
            log.warning("No Redis for the shared concurrency limit (%s); limiting per process.", type(exc).__name__)
        return None
