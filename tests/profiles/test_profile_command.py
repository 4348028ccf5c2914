"""`manage.py profile add|test|list`: secrets only from the environment, exit 2 on bad input."""

import pytest
from django.core.management import CommandError, call_command

from records.models import AuditEvent, ConnectionProfile

pytestmark = pytest.mark.django_db


def add(*args, **kwargs):
    call_command("profile", "add", *args, **kwargs)


def test_add_a_vault_profile_with_the_secret_from_the_environment(owner, monkeypatch, capsys):
    monkeypatch.setenv("COPIER_SECRET", "env-pw")
    add(
        "Acme",
        "--system",
        "vault",
        "--url",
        "https://acme.veevavault.com",
        "--username",
        "me@acme.com",
        "--api-version",
        "v25.2",
        "--owner",
        "alice",
    )
    profile = ConnectionProfile.objects.get(name="Acme")
    assert profile.owner == owner and profile.secret == "env-pw" and profile.api_version == "v25.2"
    assert "Added profile 'Acme'" in capsys.readouterr().out
    assert "env-pw" not in str(AuditEvent.objects.get().details)


def test_a_vault_profile_added_without_an_api_version_gets_the_newest(owner, monkeypatch):
    monkeypatch.setenv("COPIER_SECRET", "env-pw")
    add("Acme", "--system", "vault", "--url", "https://acme.veevavault.com", "--username", "me", "--owner", "alice")
    assert ConnectionProfile.objects.get(name="Acme").api_version == "v26.3"


def test_add_a_zoho_profile(owner, monkeypatch):
    monkeypatch.setenv("COPIER_SECRET", "client-secret")
    monkeypatch.setenv("COPIER_REFRESH_TOKEN", "1000.rt")
    add(
        "Zoho EU",
        "--system",
        "zoho",
        "--url",
        "https://www.zohoapis.eu",
        "--accounts-url",
        "https://accounts.zoho.eu",
        "--client-id",
        "1000.CID",
        "--owner",
        "alice",
    )
    profile = ConnectionProfile.objects.get(name="Zoho EU")
    assert (profile.username, profile.refresh_token) == ("1000.CID", "1000.rt")


def test_the_secret_is_not_an_argument(owner, monkeypatch):
    monkeypatch.delenv("COPIER_SECRET", raising=False)
    with pytest.raises(CommandError) as info:
        add("Acme", "--system", "vault", "--url", "https://acme.veevavault.com", "--username", "me", "--owner", "alice")
    assert info.value.returncode == 2 and "COPIER_SECRET" in str(info.value)
    with pytest.raises(CommandError):
        add("Acme", "--system", "vault", "--url", "https://acme.veevavault.com", "--username", "me", "--secret", "x")


@pytest.mark.parametrize(
    "args, reason",
    [
        (["--url", "https://169.254.169.254", "--username", "me", "--owner", "alice"], "IP addresses"),
        (["--url", "https://acme.veevavault.com", "--owner", "alice"], "--username"),
        (["--url", "https://acme.veevavault.com", "--username", "me", "--owner", "nobody"], "No user"),
    ],
)
def test_bad_input_exits_2_with_one_line(owner, monkeypatch, args, reason):
    monkeypatch.setenv("COPIER_SECRET", "env-pw")
    with pytest.raises(CommandError) as info:
        add("Acme", "--system", "vault", *args)
    assert info.value.returncode == 2 and reason in str(info.value) and "\n" not in str(info.value)
    assert not ConnectionProfile.objects.exists()


def test_list_shows_profiles_without_secrets(make_profile, capsys):
    make_profile(name="Listed")
    call_command("profile", "list")
    out = capsys.readouterr().out
    assert "Listed" in out and "s3cret-value" not in out


def test_test_reports_failure_with_exit_1(make_profile, capsys):
    make_profile(name="Down", base_url="http://127.0.0.1:9")
    with pytest.raises(SystemExit) as info:
        call_command("profile", "test", "Down")
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("FAILED:") and "s3cret-value" not in err


def test_test_unknown_profile_exits_2(db):
    with pytest.raises(CommandError) as info:
        call_command("profile", "test", "Nope")
    assert info.value.returncode == 2


def test_add_a_protected_profile_then_lift_and_set_its_protection(owner, monkeypatch, capsys):
    monkeypatch.setenv("COPIER_SECRET", "env-pw")
    add(
        "Prod",
        "--system",
        "vault",
        "--url",
        "https://prod.veevavault.com",
        "--username",
        "me",
        "--owner",
        "alice",
        "--protected",
    )
    assert ConnectionProfile.objects.get(name="Prod").protected
    assert "copies into it wait for approval" in capsys.readouterr().out
    call_command("profile", "protect", "Prod", "--off")
    assert not ConnectionProfile.objects.get(name="Prod").protected
    assert "is not protected" in capsys.readouterr().out
    call_command("profile", "protect", "Prod")
    call_command("profile", "list")
    assert capsys.readouterr().out.rstrip().endswith("\tprotected")
    call_command("profile", "protect", "Prod")  # already protected: nothing changes, nothing audited
    assert ConnectionProfile.objects.get(name="Prod").protected
    changes = AuditEvent.objects.filter(action="profile.protect").order_by("pk")
    assert [e.details["protected"] for e in changes] == [False, True]
