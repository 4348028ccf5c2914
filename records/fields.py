"""A text field stored encrypted with MultiFernet (the first key encrypts, all decrypt)."""

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


class CredentialDecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def credential_fernet() -> MultiFernet:
    # Read the keys on every call (not at import) so tests and rotation see the current setting.
    return _fernet(tuple(settings.CREDENTIAL_KEYS))


def encrypt_secret(value: str) -> str:
    return credential_fernet().encrypt(value.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return credential_fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        # Never hand back the ciphertext as if it were the secret.
        raise CredentialDecryptionError(
            "A stored credential could not be decrypted: CREDENTIAL_KEYS does not hold its key."
        ) from None


# Django's field classes take type arguments (what is set, what is read) for the type checker only.
if TYPE_CHECKING:
    _TextField = models.TextField[str, str]
else:
    _TextField = models.TextField


class EncryptedTextField(_TextField):
    """Holds a secret; the column only ever sees Fernet tokens. Empty string means "not set"."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value in (None, ""):
            return value
        return decrypt_secret(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt_secret(value)
