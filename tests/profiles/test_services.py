"""Profile services: URL checks, secrets kept or replaced, sharing, deleting, connection tests, audit."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError

from records.connectors import base
from records.connectors.errors import AuthFailed, ConfigurationError, Unavailable
from records.models import AuditEvent, ConnectionProfile
from records.profiles import services as profile_services

pytestmark = pytest.mark.django_db


def _vault(actor, **extra):
    values = dict(
        name="Vault",
        system="vault",
        base_url="https://acme.veevavault.com/",
        api_version="v25.2",
        username="me@acme.com",
        secret="pw-123",
        owner=actor,
        actor=actor,
    )
    values.update(extra)
    return profile_services.profile_create(**values)


def _all_audit_text():
    return " ".join(str(e.details) for e in AuditEvent.objects.all())


def test_create_normalises_the_url_and_audits_without_the_secret(owner):
    profile = _vault(owner)
    assert profile.base_url == "https://acme.veevavault.com"
    assert profile.secret == "pw-123" and profile.secret_set_at is not None
    event = AuditEvent.objects.get(action="profile.create")
    assert event.actor == owner and event.profile == profile
    assert "pw-123" not in _all_audit_text()


def test_create_defaults_the_owner_to_the_actor(owner):
    assert _vault(owner, owner=None).owner == owner


@pytest.mark.parametrize(
    "url",
    [
        "http://acme.veevavault.com",
        "https://169.254.169.254",
        "https://acme.veevavault.com.evil.io",
        "https://user:pw@acme.veevavault.com",
        "https://acme.veevavault.com:8443",
        "https://acme.veevavault.com/api/v25.2",
    ],
)
def test_create_refuses_urls_outside_the_allowed_hosts(owner, url):
    with pytest.raises(ValidationError):
        _vault(owner, base_url=url)
    assert not ConnectionProfile.objects.exists()


def test_loopback_only_when_allowed(owner, settings):
    settings.ALLOW_LOOPBACK_CONNECTIONS = False
    with pytest.raises(ValidationError, match="https"):
        _vault(owner, base_url="http://127.0.0.1:8101")
    settings.ALLOW_LOOPBACK_CONNECTIONS = True
    assert _vault(owner, base_url="http://127.0.0.1:8101").base_url == "http://127.0.0.1:8101"


def test_zoho_needs_allowed_api_and_accounts_hosts(owner):
    values = dict(
        name="Zoho", system="zoho", username="1000.ID", secret="cs", refresh_token="rt", owner=owner, actor=owner
    )
    with pytest.raises(ValidationError, match="accounts"):
        profile_services.profile_create(base_url="https://www.zohoapis.eu", **values)
    with pytest.raises(ValidationError):
        profile_services.profile_create(
            base_url="https://www.zohoapis.eu", accounts_url="https://accounts.evil.eu", **values
        )
    profile = profile_services.profile_create(
        base_url="https://www.zohoapis.eu", accounts_url="https://accounts.zoho.eu", **values
    )
    assert profile.refresh_token == "rt" and profile.refresh_token_set_at is not None


def test_duplicate_names_are_refused_clearly(owner):
    _vault(owner)
    with pytest.raises(ValidationError, match="already exists"):
        _vault(owner)


def test_update_with_a_blank_secret_keeps_it(owner):
    profile = _vault(owner)
    stamped = profile.secret_set_at
    profile_services.profile_update(profile=profile, actor=owner, name="Renamed", secret="")
    profile.refresh_from_db()
    assert profile.name == "Renamed" and profile.secret == "pw-123" and profile.secret_set_at == stamped


def test_update_with_a_new_secret_replaces_it_and_drops_the_session(owner):
    profile = _vault(owner)
    ConnectionProfile.objects.filter(pk=profile.pk).update(
        session_token=ConnectionProfile._meta.get_field("session_token").get_prep_value("SESSION-1")
    )
    profile.refresh_from_db()
    stamped = profile.secret_set_at
    profile_services.profile_update(profile=profile, actor=owner, secret="new-pw")
    profile.refresh_from_db()
    assert profile.secret == "new-pw" and profile.secret_set_at > stamped
    assert profile.session_token == ""
    event = AuditEvent.objects.get(action="profile.update")
    assert event.details["secrets_replaced"] == ["secret"]
    assert "new-pw" not in _all_audit_text() and "SESSION-1" not in _all_audit_text()


def test_update_refuses_unknown_fields_and_bad_urls(owner):
    profile = _vault(owner)
    with pytest.raises(ValidationError):
        profile_services.profile_update(profile=profile, actor=owner, session_token="x")
    with pytest.raises(ValidationError):
        profile_services.profile_update(profile=profile, actor=owner, base_url="https://169.254.169.254")
    profile.refresh_from_db()
    assert profile.base_url == "https://acme.veevavault.com"


def test_share_with_users_and_groups(owner, other_user, staff):
    profile = _vault(owner)
    team = Group.objects.create(name="team")
    profile_services.profile_share(profile=profile, users=[other_user], groups=[team], actor=staff)
    assert ConnectionProfile.objects.for_user(other_user).filter(pk=profile.pk).exists()
    event = AuditEvent.objects.get(action="profile.share")
    assert event.details == {"users": ["bob"], "groups": ["team"]} and event.actor == staff
    profile_services.profile_share(profile=profile, users=[], groups=[], actor=staff)
    assert not ConnectionProfile.objects.for_user(other_user).exists()


def test_delete_is_audited_and_refused_while_jobs_exist(owner, make_job):
    profile = _vault(owner)
    profile_services.profile_delete(profile=profile, actor=owner)
    assert not ConnectionProfile.objects.filter(name="Vault").exists()
    assert AuditEvent.objects.get(action="profile.delete").details["name"] == "Vault"
    job = make_job()
    with pytest.raises(ProtectedError):
        profile_services.profile_delete(profile=job.profile, actor=owner)
    assert ConnectionProfile.objects.filter(pk=job.profile.pk).exists()


class StubConnector(base.Connector):
    """Answers test_connection with whatever the test sets in `outcome`."""

    outcome: object = "Vault acme: logged in as me@acme.com"

    def __init__(self, config, tokens):
        self.config = config

    def test_connection(self):
        if isinstance(StubConnector.outcome, Exception):
            raise StubConnector.outcome
        return StubConnector.outcome

    def __getattr__(self, name):  # the other abstract methods are not used here
        raise NotImplementedError(name)


StubConnector.__abstractmethods__ = frozenset()


@pytest.fixture
def stub_connector(monkeypatch):
    from records import connectors

    monkeypatch.setitem(connectors.REGISTRY, "vault", "tests.profiles.test_services:StubConnector")
    yield StubConnector
    StubConnector.outcome = "Vault acme: logged in as me@acme.com"


def test_profile_test_stores_success(owner, stub_connector):
    profile = _vault(owner)
    ok, message = profile_services.profile_test(profile=profile, actor=owner)
    assert ok is True and "logged in" in message
    profile.refresh_from_db()
    assert profile.last_test_ok is True and profile.last_tested_at is not None
    assert AuditEvent.objects.filter(action="profile.test", details__ok=True).exists()


@pytest.mark.parametrize(
    "error, words",
    [
        (
            AuthFailed("Invalid username or password pw-123", error_type="USERNAME_OR_PASSWORD_INCORRECT"),
            "refused the credentials",
        ),
        (Unavailable("connection refused", error_type="CONNECTION"), "Couldn't reach"),
        (ConfigurationError("URL refused", error_type="INVALID_URL"), "can't be used"),
    ],
)
def test_profile_test_explains_failures_without_secrets(owner, stub_connector, error, words):
    profile = _vault(owner)
    stub_connector.outcome = error
    ok, message = profile_services.profile_test(profile=profile, actor=owner)
    assert ok is False and words in message
    assert "pw-123" not in message
    profile.refresh_from_db()
    assert profile.last_test_ok is False and profile.last_test_message == message
    assert "pw-123" not in _all_audit_text()


def test_profile_test_refuses_a_stored_url_that_is_no_longer_allowed(owner, settings, stub_connector):
    profile = _vault(owner, base_url="http://127.0.0.1:9")
    settings.ALLOW_LOOPBACK_CONNECTIONS = False
    ok, message = profile_services.profile_test(profile=profile, actor=owner)
    assert ok is False and message.startswith("The URL is refused")


def test_profile_test_against_the_sandbox(vault_profile, fresh_sandbox, owner):
    ok, message = profile_services.profile_test(profile=vault_profile, actor=owner)
    assert ok is True, message


@pytest.mark.django_db
def test_token_store_reads_the_database_once_and_takes_a_newer_token_on_refresh(owner, django_assert_num_queries):
    from records.connectors.tokens import ProfileTokenStore
    from records.models import ConnectionProfile

    profile = ConnectionProfile.objects.create(
        name="T", system="zoho", base_url="https://www.zohoapis.com", username="id", owner=owner
    )
    store = ProfileTokenStore(profile.pk)
    assert store.refresh("", lambda: ("token-1", None)) == "token-1"
    with django_assert_num_queries(0):
        assert store.get() == ("token-1", None)
    # Another worker minted a newer token: refreshing our stale one picks it up without minting.
    ConnectionProfile.objects.filter(pk=profile.pk).update(session_token="token-2")
    assert store.refresh("token-1", lambda: pytest.fail("minted again")) == "token-2"
    assert store.get()[0] == "token-2"
    assert ProfileTokenStore(profile.pk).get()[0] == "token-2"
