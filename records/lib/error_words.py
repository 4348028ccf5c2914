"""What went wrong, in words a business user understands: the one mapping from an exception to a
message, used by the pages, the connection test (records/profiles/services.py) and the job actions."""

from __future__ import annotations

import logging

from records.connectors.errors import (
    AuthFailed,
    ConfigurationError,
    ConnectorError,
    LimitExceeded,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    Unavailable,
)
from records.models import ConnectionProfile

log = logging.getLogger(__name__)


def friendly_error(exc: Exception, profile: ConnectionProfile | None = None) -> str:
    """Never a traceback or a secret: connector errors carry the remote error type and message,
    which are shown as they are; any other exception is logged and reported generically."""
    system = profile.get_system_display() if profile is not None else "The remote system"
    if isinstance(exc, ConnectorError):
        return _connector_message(exc, system)
    if isinstance(exc, ImportError):
        return f"No connector for {system} is installed."
    log.exception("Unexpected error")
    return "Something unexpected went wrong. The error was logged; please try again or ask an admin."


def _connector_message(exc: ConnectorError, system: str) -> str:
    remote = f" ({exc.error_type}: {exc.message})" if exc.message else f" ({exc.error_type})"
    if isinstance(exc, AuthFailed):
        return f"{system} refused the credentials. Check the user name and secret of the profile{remote}."
    if isinstance(exc, ConfigurationError):
        return f"The connection profile can't be used as it is{remote}."
    if isinstance(exc, NotFound):
        return f"{system} could not find it, or this profile's user may not see it{remote}."
    if isinstance(exc, LimitExceeded):
        return f"This is over a limit of {system}{remote}."
    if isinstance(exc, Rejected):
        return f"{system} rejected the request{remote}."
    if isinstance(exc, RateLimited):
        return f"{system} is throttling requests right now; try again in a minute{remote}."
    if isinstance(exc, Unavailable | OutcomeUnknown):
        return f"Couldn't reach {system}. It may be down or the base URL may be wrong{remote}."
    return f"{system} reported an error{remote}."


def service_error_message(exc: Exception) -> str:
    """Messages of ValidationError / ValueError raised by services are written for people."""
    messages = getattr(exc, "messages", None)
    if messages:
        return " ".join(str(m) for m in messages)
    return str(exc)
