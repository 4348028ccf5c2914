"""EncryptedTextField: round trip, no plain text in the column, key rotation, wrong key raises."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from records.fields import CredentialDecryptionError, decrypt_secret
from records.models import ConnectionProfile

pytestmark = pytest.mark.django_db
SECRET = "pa55-w0rd-ünïcode"


def _raw(profile, column="secret"):
    with connection.cursor() as cursor:
        table = ConnectionProfile._meta.db_table
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [profile.pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.fixture
def profile(make_profile):
    return make_profile(name="Keys", secret=SECRET, refresh_token="1000.refresh")


def test_round_trip(profile):
    fresh = ConnectionProfile.objects.get(pk=profile.pk)
    assert fresh.secret == SECRET and fresh.refresh_token == "1000.refresh"


def test_the_column_holds_no_plain_text(profile):
    raw = _raw(profile)
    assert SECRET not in raw and "pa55" not in raw
    assert raw.startswith("gAAAA")  # a Fernet token
    assert "1000.refresh" not in _raw(profile, "refresh_token")


def test_empty_means_not_set_and_is_stored_empty(make_profile):
    profile = make_profile(name="Empty", secret="")
    assert _raw(profile) == ""
    assert ConnectionProfile.objects.get(pk=profile.pk).secret == ""


def test_each_save_encrypts_afresh(profile):
    first = _raw(profile)
    profile.save()
    assert _raw(profile) != first  # Fernet tokens carry a random IV and a timestamp


def test_old_keys_still_decrypt_after_a_new_key_is_added(profile, settings):
    settings.CREDENTIAL_KEYS = [Fernet.generate_key().decode(), *settings.CREDENTIAL_KEYS]
    assert ConnectionProfile.objects.get(pk=profile.pk).secret == SECRET


def test_rotate_credential_keys_re_encrypts_under_the_first_key(profile, settings):
    old = list(settings.CREDENTIAL_KEYS)
    new = Fernet.generate_key().decode()
    settings.CREDENTIAL_KEYS = [new, *old]
    call_command("rotate_credential_keys")
    assert Fernet(new.encode()).decrypt(_raw(profile).encode()).decode() == SECRET
    settings.CREDENTIAL_KEYS = [new]  # the old key can now be dropped
    fresh = ConnectionProfile.objects.get(pk=profile.pk)
    assert fresh.secret == SECRET and fresh.refresh_token == "1000.refresh"


def test_a_wrong_key_raises_and_never_returns_ciphertext(profile, settings):
    settings.CREDENTIAL_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CredentialDecryptionError) as info:
        ConnectionProfile.objects.get(pk=profile.pk)
    assert "gAAAA" not in str(info.value)
    with pytest.raises(CredentialDecryptionError):
        decrypt_secret(_raw(profile))


def test_rotation_with_a_missing_key_fails_and_changes_nothing(profile, settings):
    raw = _raw(profile)
    settings.CREDENTIAL_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(Exception, match="could not be decrypted"):
        call_command("rotate_credential_keys")
    assert _raw(profile) == raw
