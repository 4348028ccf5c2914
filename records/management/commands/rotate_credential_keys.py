"""Re-encrypt every stored credential under the first key of CREDENTIAL_KEYS.

Rotation: put a new key first in CREDENTIAL_KEYS (keep the old ones after it), deploy, run this
command, then drop the old keys.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from records.fields import CredentialDecryptionError
from records.profiles.services import profiles_rotate_keys


class Command(BaseCommand):
    help = "Re-encrypt every profile secret under the newest (first) key of CREDENTIAL_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = profiles_rotate_keys()
        except CredentialDecryptionError as exc:
            raise CommandError(f"{exc} Nothing was changed.") from None
        self.stdout.write(f"Re-encrypted the secrets of {count} profile(s) under the first key.")
