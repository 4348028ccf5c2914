"""Which URLs a webhook may be sent to: the profiles' guard (connectors/urls.py) for any host.
https on 443 only, no user name or password, no IP address, and a host name that resolves to
public addresses only (no private, loopback, link-local or reserved one: a webhook must not reach
into the network the app runs in). ALLOW_LOOPBACK_CONNECTIONS, as for profiles, lets tests and the
demo use a receiver on http://127.0.0.1 / localhost."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from records.connectors.urls import LOOPBACK_HOSTS


def check_webhook_url(url: str) -> str:
    """Return `url` stripped if a webhook may be POSTed to it; ValidationError says why not.
    Checked when the webhook is queued and again before each attempt (the name may resolve
    elsewhere by then)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ValidationError("The webhook URL is not valid.") from None
    host = (parts.hostname or "").lower()
    if not host or parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValidationError("The webhook URL needs a host and no user name or password.")
    if settings.ALLOW_LOOPBACK_CONNECTIONS and host in LOOPBACK_HOSTS and parts.scheme in ("http", "https"):
        return url.strip()
    if parts.scheme != "https" or port not in (None, 443):
        raise ValidationError("A webhook URL must be https:// on port 443.")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise ValidationError("A webhook URL must name a host, not an IP address.")
    _refuse_private(host)
    return url.strip()


def _refuse_private(host: str) -> None:
    try:
        infos = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    except OSError:
        raise ValidationError(f"The webhook host {host} does not resolve.") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise ValidationError(f"The webhook host {host} resolves to a private address ({address}): refused.")
