"""System checks for the settings this app depends on (`manage.py check`, `check --deploy`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet
from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register()
def check_credential_keys(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    keys = list(getattr(settings, "CREDENTIAL_KEYS", []) or [])
    if not keys:
        errors.append(Error("CREDENTIAL_KEYS is empty.", hint="Set it to one or more Fernet keys.", id="records.E001"))
    for index, key in enumerate(keys):
        try:
            Fernet(key.encode() if isinstance(key, str) else key)
        except (ValueError, TypeError):
            errors.append(
                Error(
                    f"CREDENTIAL_KEYS entry {index + 1} is not a valid Fernet key.",
                    hint='Generate one with: python -c "from cryptography.fernet import Fernet; '
                    'print(Fernet.generate_key().decode())"',
                    id="records.E002",
                )
            )
    return errors


@register(Tags.security, deploy=True)
def check_production_settings(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    warnings: list[CheckMessage] = []
    if settings.ALLOW_LOOPBACK_CONNECTIONS:
        warnings.append(
            Warning(
                "ALLOW_LOOPBACK_CONNECTIONS is on: connection profiles may point at 127.0.0.1.",
                hint="Only the sandbox and tests need it; leave it off in production.",
                id="records.W001",
            )
        )
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        warnings.append(
            Warning(
                "The database is SQLite.",
                hint="Use PostgreSQL in production: set DATABASE_URL=postgres://...",
                id="records.W002",
            )
        )
    return warnings


@register(Tags.security)
def check_allowed_hosts(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    # '*' makes Django trust any Host header: password-reset links, absolute URLs and the admin's
    # "view on site" can then be pointed at an attacker's domain.
    if "*" in settings.ALLOWED_HOSTS:
        return [
            Warning(
                "ALLOWED_HOSTS contains '*': any Host header is accepted.",
                hint="List the host names the app is served under, e.g. ALLOWED_HOSTS=copier.example.com",
                id="records.W003",
            )
        ]
    return []


@register(Tags.security)
def check_login_methods(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    if not settings.LOCAL_LOGIN_ENABLED and not settings.OIDC_RP_CLIENT_ID:
        errors.append(
            Error(
                "LOCAL_LOGIN_ENABLED is off and single sign-on is not configured: nobody can log in.",
                hint="Set OIDC_CLIENT_ID (and OIDC_ISSUER), or turn local accounts back on.",
                id="records.E003",
            )
        )
    if settings.OIDC_RP_CLIENT_ID:
        needed = (
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
        )
        if not settings.OIDC_OP_ISSUER and not all(getattr(settings, name) for name in needed):
            errors.append(
                Error(
                    "Single sign-on needs OIDC_ISSUER (discovery) or all four endpoints.",
                    hint="Set OIDC_ISSUER=https://login.example.com/realms/x",
                    id="records.E004",
                )
            )
        if not settings.OIDC_RP_CLIENT_SECRET:
            errors.append(Error("OIDC_CLIENT_ID is set but OIDC_CLIENT_SECRET is empty.", id="records.E005"))
    return errors
