"""The connectors' typed errors: every system's failures are raised as one of these.
The engine decides on retries from the class (and `retryable`), never from message text.
None of them ever carries a credential in its message."""

from __future__ import annotations

from typing import Any


class ConnectorError(Exception):
    """Base error: `error_type` is the remote system's error code (e.g. INVALID_DATA)."""

    retryable = False

    def __init__(
        self, message: str, *, error_type: str = "", request_id: str = "", details: dict[str, Any] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.error_type = error_type or type(self).__name__
        self.request_id = request_id
        self.details = details or {}

    def __str__(self) -> str:
        return f"{self.error_type}: {self.message}" if self.error_type else self.message


class ConfigurationError(ConnectorError):
    """The profile itself is unusable: a refused base URL, a missing secret, a wrong Vault."""


class AuthFailed(ConnectorError):
    """Credentials were refused (after the one permitted re-authentication)."""


class NotFound(ConnectorError):
    """The object, module or record does not exist (or is not visible to this user)."""


class Rejected(ConnectorError):
    """The remote system refused the request or the record: validation, permission, limits."""

    def __init__(self, message: str, *, field: str = "", **kwargs: Any):
        super().__init__(message, **kwargs)
        self.field = field


class LimitExceeded(Rejected):
    """A documented hard limit, e.g. a deep copy of more than 10,000 related records."""


class RateLimited(ConnectorError):
    """Throttled (HTTP 429, API_LIMIT_EXCEEDED) and still so after the connector's own backoff."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Unavailable(ConnectorError):
    """Network failure or 5xx on a call that did not change anything (or was safe to repeat)."""

    retryable = True


class OutcomeUnknown(ConnectorError):
    """A write was sent but no answer came back: it may or may not have been applied.

    The connector never resends such a write itself; the engine reconciles first.
    """

    retryable = True
