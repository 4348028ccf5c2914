"""Deploy checks (records/checks.py): ALLOWED_HOSTS='*' is warned about, a real host list is not;
the login configuration (local logins off needs single sign-on, fully configured)."""

from django.test import override_settings

from records.checks import check_allowed_hosts


@override_settings(ALLOWED_HOSTS=["*"])
def test_allowed_hosts_star_is_warned_about():
    warnings = {w.id: w for w in check_allowed_hosts(None)}
    assert "records.W003" in warnings
    assert "ALLOWED_HOSTS" in warnings["records.W003"].msg


@override_settings(ALLOWED_HOSTS=["copier.example.com"])
def test_a_real_host_list_is_not_warned_about():
    assert "records.W003" not in {w.id for w in check_allowed_hosts(None)}


def test_login_configuration_is_checked(settings):
    from records.checks import check_login_methods

    assert check_login_methods(None) == []
    settings.LOCAL_LOGIN_ENABLED = False
    assert [e.id for e in check_login_methods(None)] == ["records.E003"]
    settings.OIDC_RP_CLIENT_ID = "copier"
    assert [e.id for e in check_login_methods(None)] == ["records.E004", "records.E005"]
    settings.OIDC_OP_ISSUER, settings.OIDC_RP_CLIENT_SECRET = "https://login.example.com", "s"
    assert check_login_methods(None) == []
