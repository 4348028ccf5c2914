"""Which base URLs a connection profile may point at (the SSRF guard)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from records.connectors.errors import ConfigurationError

# Zoho data centres: API domains (production, sandbox, developer) and accounts servers.
# Source: ../shared/api-notes/zoho.md §1.3 (SDK DC classes, multi-DC pages).
ZOHO_TLDS = ("com", "eu", "in", "com.au", "jp", "com.cn", "ca", "sa")
ZOHO_API_HOSTS = frozenset(
    f"{prefix}.zohoapis.{tld}" for tld in ZOHO_TLDS for prefix in ("www", "sandbox", "developer")
)
ZOHO_ACCOUNTS_HOSTS = frozenset(
    [f"accounts.zoho.{tld}" for tld in ZOHO_TLDS if tld != "ca"] + ["accounts.zohocloud.ca"]
)
# Zoho data centres whose accounts server is not accounts.zoho.<tld> (§1.3).
ZOHO_ACCOUNTS_BY_TLD = {"ca": "https://accounts.zohocloud.ca"}
VAULT_SUFFIX = ".veevavault.com"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _host_allowed(host: str, kind: str) -> bool:
    if kind == "vault":
        label = host[: -len(VAULT_SUFFIX)]
        return (
            host.endswith(VAULT_SUFFIX)
            and bool(label)
            and all(
                # ASCII only: Unicode look-alikes (fullwidth dots, compatibility forms) are rewritten
                # by IDNA on the way out and could end up naming another host.
                part and all(c.isascii() and (c.isalnum() or c == "-") for c in part)
                for part in label.split(".")
            )
        )
    if kind == "zoho_api":
        return host in ZOHO_API_HOSTS
    if kind == "zoho_accounts":
        return host in ZOHO_ACCOUNTS_HOSTS
    raise ValueError(kind)


def check_base_url(url: str, kind: str, *, allow_loopback: bool = False) -> str:
    """Return `url` normalised (no trailing slash) if a profile may use it; raise otherwise.

    kind: "vault", "zoho_api" or "zoho_accounts".
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ConfigurationError("The URL is not valid.", error_type="INVALID_URL") from None
    host = (parts.hostname or "").lower()
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ConfigurationError("The URL must not contain a user name or password.", error_type="INVALID_URL")
    if parts.query or parts.fragment or parts.path not in ("", "/"):
        raise ConfigurationError(
            "Give only the scheme and host, e.g. https://myvault.veevavault.com.", error_type="INVALID_URL"
        )
    if allow_loopback and host in LOOPBACK_HOSTS and parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}"
    if parts.scheme != "https":
        raise ConfigurationError("Only https:// URLs are allowed.", error_type="INVALID_URL")
    if port not in (None, 443):
        raise ConfigurationError("Other ports than 443 are not allowed.", error_type="INVALID_URL")
    try:
        ipaddress.ip_address(host.strip("[]"))
        raise ConfigurationError("IP addresses are not allowed; use the system's host name.", error_type="INVALID_URL")
    except ValueError:
        pass
    if not _host_allowed(host, kind):
        expected = {
            "vault": "a host under veevavault.com",
            "zoho_api": "a Zoho API domain such as www.zohoapis.com",
            "zoho_accounts": "a Zoho accounts server such as accounts.zoho.com",
        }[kind]
        raise ConfigurationError(f"The host {host!r} is not allowed: expected {expected}.", error_type="INVALID_URL")
    return f"https://{host}"


def zoho_accounts_for(api_domain: str) -> str:
    """§1.3: the accounts server of an API domain's data centre (for a profile that names none)."""
    host = urlsplit(api_domain).hostname or ""
    if ".zohoapis." not in host:
        return api_domain  # loopback sandbox: one server for both
    tld = host.partition(".zohoapis.")[2]
    return ZOHO_ACCOUNTS_BY_TLD.get(tld, f"https://accounts.zoho.{tld}")


def same_host(url: str, base: str) -> bool:
    """Whether `url` names the host and port of `base` (Vault: is a session's Vault the profile's?)."""
    a, b = urlsplit(url), urlsplit(base)
    try:
        pa = a.port or (443 if a.scheme == "https" else 80)
        pb = b.port or (443 if b.scheme == "https" else 80)
    except ValueError:
        return False
    return bool(a.hostname) and (a.hostname or "").lower() == (b.hostname or "").lower() and pa == pb
