"""Single sign-on against a real OpenID Provider (tests/fixtures/oidc.py): the whole code flow over
HTTP (our pages through Django's test client, the provider's through requests, the token and
userinfo calls from our backend to the provider), group mapping, logout at the provider, and the
refusals: a token for another audience, a code issued to another client, a local account's name."""

import pytest
import requests
from django.contrib.auth.models import Group
from django.core.exceptions import SuspiciousOperation
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from records.accounts.sso import SSOBackend, discovery
from records.models import AuditEvent
from tests.fixtures.oidc import OTHER_CLIENT, at_provider

pytestmark = pytest.mark.django_db


def sso_login(client, account, provider_session=None):
    """Start at our login button, log in at the provider, come back; our response to the callback."""
    session = provider_session or requests.Session()
    start = client.get(reverse("oidc_authentication_init"))
    assert start.status_code == 302
    callback = at_provider(session, start["Location"], account, stop_at="http://testserver/")
    return client.get(callback.removeprefix("http://testserver"))


@pytest.fixture
def groups(db):
    return {name: Group.objects.create(name=name) for name in ("copier-users", "team-emea")}


def test_login_creates_the_user_with_groups_from_the_claim(client, sso_settings, groups, django_user_model):
    response = sso_login(client, "u-alice")
    assert response.status_code == 302 and response["Location"] == reverse("home")
    user = django_user_model.objects.get(username="u-alice")  # OIDC_USERNAME_CLAIM: sub
    assert (user.email, user.first_name, user.is_staff, user.is_superuser) == (
        "alice@example.com",
        "Alice",
        False,
        False,
    )
    assert not user.has_usable_password()
    # Only groups that exist here are mapped: the provider's other groups create nothing.
    assert sorted(user.groups.values_list("name", flat=True)) == ["copier-users"]
    assert not Group.objects.filter(name="unrelated-idp-group").exists()
    assert client.get(reverse("home")).status_code == 200
    event = AuditEvent.objects.get(action="login.sso")
    assert event.actor == user and event.details == {"created": True, "groups": ["copier-users"], "staff": False}


def test_staff_and_approver_groups_and_a_later_login_syncs_groups(client, sso_settings, groups, django_user_model):
    carol = django_user_model.objects.create_user("u-carol")
    carol.set_unusable_password()
    carol.save()
    carol.groups.add(groups["team-emea"])  # not in the claim: removed at the next SSO login
    assert sso_login(client, "u-carol").status_code == 302
    carol.refresh_from_db()
    assert carol.is_staff and not carol.is_superuser
    assert sorted(carol.groups.values_list("name", flat=True)) == ["approve_copy", "copier-users"]
    assert client.get(reverse("admin:index")).status_code == 200


def test_logout_ends_the_session_here_and_at_the_provider(client, sso_settings, groups):
    provider = requests.Session()
    sso_login(client, "u-alice", provider)
    response = client.post(reverse("logout"))
    end_session = discovery(sso_settings.OIDC_OP_ISSUER)["end_session_endpoint"]
    assert response.status_code == 302 and response["Location"].startswith(end_session + "?id_token_hint=")
    assert client.get(reverse("home")).status_code == 302  # logged out here
    back = at_provider(provider, response["Location"], "u-alice", stop_at="http://testserver/")
    assert back == "http://testserver/accounts/login/"
    # Logged out there too: the next login asks for the account again (a login page, not a redirect).
    start = client.get(reverse("oidc_authentication_init"))
    page = provider.get(start["Location"], timeout=10)
    assert 'name="login"' in page.text


def test_the_admins_logout_ends_the_provider_session_too(client, sso_settings, groups):
    sso_login(client, "u-carol")
    response = client.post(reverse("admin:logout"))
    assert response["Location"].startswith(discovery(sso_settings.OIDC_OP_ISSUER)["end_session_endpoint"])
    assert "_auth_user_id" not in client.session


def test_endpoints_can_be_given_one_by_one_instead_of_discovery(client, sso_settings, groups, django_user_model):
    doc = discovery(sso_settings.OIDC_OP_ISSUER)
    sso_settings.OIDC_OP_ISSUER = ""
    sso_settings.OIDC_OP_AUTHORIZATION_ENDPOINT = doc["authorization_endpoint"]
    sso_settings.OIDC_OP_TOKEN_ENDPOINT = doc["token_endpoint"]
    sso_settings.OIDC_OP_USER_ENDPOINT = doc["userinfo_endpoint"]
    sso_settings.OIDC_OP_JWKS_ENDPOINT = doc["jwks_uri"]
    assert sso_login(client, "u-alice")["Location"] == reverse("home")
    assert django_user_model.objects.filter(username="u-alice").exists()


def _expire_the_id_token(client):
    session = client.session
    session["oidc_id_token_expiration"] = 0
    session.save()


def test_an_sso_session_is_rechecked_silently_with_the_provider(client, sso_settings, groups):
    provider = requests.Session()
    sso_login(client, "u-alice", provider)
    _expire_the_id_token(client)
    response = client.get(reverse("job_list"))
    assert response.status_code == 302 and "prompt=none" in response["Location"]
    back = at_provider(provider, response["Location"], "u-alice", stop_at="http://testserver/")
    assert client.get(back.removeprefix("http://testserver"))["Location"] == reverse("job_list")
    assert client.get(reverse("job_list")).status_code == 200  # still logged in, renewed


def test_logged_out_at_the_provider_means_logged_out_here_at_the_next_check(client, sso_settings, groups):
    provider = requests.Session()
    sso_login(client, "u-alice", provider)
    end = discovery(sso_settings.OIDC_OP_ISSUER)["end_session_endpoint"]
    at_provider(
        provider,
        f"{end}?client_id=copier&post_logout_redirect_uri=http://testserver/accounts/login/",
        "u-alice",
        stop_at="http://testserver/",
    )
    _expire_the_id_token(client)
    back = at_provider(provider, client.get(reverse("home"))["Location"], "u-alice", stop_at="http://testserver/")
    assert "error=login_required" in back
    client.get(back.removeprefix("http://testserver"))
    assert "_auth_user_id" not in client.session


def test_local_sessions_and_polled_urls_are_not_refreshed(client, sso_settings, owner, make_job):
    client.force_login(owner, backend="django.contrib.auth.backends.ModelBackend")
    _expire_the_id_token(client)
    assert client.get(reverse("home")).status_code == 200
    job = make_job()
    sso_user = type(owner).objects.create_user("u-x")
    client.force_login(sso_user, backend="records.accounts.sso.SSOBackend")
    _expire_the_id_token(client)
    assert client.get(reverse("job_live", args=[job.code])).status_code == 404  # not a redirect


def _token_for_other_client(issuer):
    """A real ID token the provider issued to another client (that client's own code flow)."""
    doc = discovery(issuer)
    session = requests.Session()
    auth_url = (
        requests.Request(
            "GET",
            doc["authorization_endpoint"],
            params={
                "client_id": OTHER_CLIENT["client_id"],
                "response_type": "code",
                "scope": "openid email",
                "redirect_uri": "http://other.invalid/oidc/callback/",
                "state": "s" * 16,
                "nonce": "n" * 16,
            },
        )
        .prepare()
        .url
    )
    back = at_provider(session, auth_url, "u-alice", stop_at="http://other.invalid/")
    code = requests.utils.urlparse(back).query.split("code=")[1].split("&")[0]
    tokens = requests.post(
        doc["token_endpoint"],
        timeout=10,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://other.invalid/oidc/callback/",
            **OTHER_CLIENT,
        },
    ).json()
    return tokens["id_token"]


def test_an_id_token_for_another_audience_is_refused(sso_settings):
    token = _token_for_other_client(sso_settings.OIDC_OP_ISSUER)
    # mozilla-django-oidc alone accepts it (it skips the audience): the gap our backend closes.
    doc = discovery(sso_settings.OIDC_OP_ISSUER)
    sso_settings.OIDC_OP_TOKEN_ENDPOINT, sso_settings.OIDC_OP_USER_ENDPOINT = (
        doc["token_endpoint"],
        doc["userinfo_endpoint"],
    )
    sso_settings.OIDC_OP_JWKS_ENDPOINT = doc["jwks_uri"]
    assert OIDCAuthenticationBackend().verify_token(token, nonce="n" * 16)["aud"] == OTHER_CLIENT["client_id"]
    with pytest.raises(SuspiciousOperation, match="another client"):
        SSOBackend().verify_token(token, nonce="n" * 16)


def test_a_code_issued_to_another_client_does_not_log_in(client, sso_settings, groups):
    doc = discovery(sso_settings.OIDC_OP_ISSUER)
    client.get(reverse("oidc_authentication_init"))  # our state and nonce in the session
    state = client.session["oidc_states"]
    state_value = next(iter(state))
    auth_url = (
        requests.Request(
            "GET",
            doc["authorization_endpoint"],
            params={
                "client_id": OTHER_CLIENT["client_id"],
                "response_type": "code",
                "scope": "openid",
                "redirect_uri": "http://other.invalid/oidc/callback/",
                "state": state_value,
            },
        )
        .prepare()
        .url
    )
    back = at_provider(requests.Session(), auth_url, "u-alice", stop_at="http://other.invalid/")
    response = client.get(reverse("oidc_authentication_callback") + "?" + back.split("?", 1)[1])
    assert response.status_code == 302 and "sso=failed" in response["Location"]
    assert "_auth_user_id" not in client.session


def test_failed_sso_callbacks_do_not_lock_sso_out_for_the_address(client, sso_settings, groups, settings):
    """Found while testing: each failed callback counted as a failed login of "no user name"
    from the address, so five of them locked everybody behind that address out of SSO."""
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        client.get(reverse("oidc_authentication_init"))
        state = next(iter(client.session["oidc_states"]))
        response = client.get(reverse("oidc_authentication_callback"), {"code": "not-a-code", "state": state})
        assert "sso=failed" in response["Location"]  # the provider refused the code
    assert sso_login(client, "u-alice")["Location"] == reverse("home")


def test_sso_never_signs_in_as_a_local_account(client, sso_settings, owner):
    response = sso_login(client, "alice")  # the provider's "alice" is not our local alice
    assert "sso=failed" in response["Location"]
    owner.refresh_from_db()
    assert not owner.is_staff and "_auth_user_id" not in client.session


def test_local_accounts_can_be_switched_off(client, sso_settings, owner):
    sso_settings.LOCAL_LOGIN_ENABLED = False
    sso_settings.AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "records.accounts.sso.SSOBackend"]
    page = client.get(reverse("login")).content.decode()
    assert 'name="password"' not in page and reverse("oidc_authentication_init") in page
    client.post(reverse("login"), {"username": "alice", "password": "alice-pass-123"})
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("admin:login"))["Location"].startswith(reverse("login"))
    assert sso_login(client, "u-alice").status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_with_sso_on_local_accounts_still_log_in(client, sso_settings, owner):
    page = client.get(reverse("login")).content.decode()
    assert 'name="password"' in page and "Log in with single sign-on" in page
    response = client.post(reverse("login"), {"username": "alice", "password": "alice-pass-123"})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(owner.pk)
