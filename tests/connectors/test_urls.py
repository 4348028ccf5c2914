"""The SSRF guard for profile base URLs (records/connectors/urls.py check_base_url)."""

from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from urllib3.util import parse_url

from records.connectors.errors import ConfigurationError
from records.connectors.urls import (
    ZOHO_ACCOUNTS_HOSTS,
    ZOHO_API_HOSTS,
    check_base_url,
    same_host,
    zoho_accounts_for,
)


@pytest.mark.parametrize(
    ("url", "kind", "expected"),
    [
        ("https://myvault.veevavault.com", "vault", "https://myvault.veevavault.com"),
        ("https://MyVault.VeevaVault.com/", "vault", "https://myvault.veevavault.com"),
        ("https://my-vault.sbx.veevavault.com:443", "vault", "https://my-vault.sbx.veevavault.com"),
        ("  https://myvault.veevavault.com  ", "vault", "https://myvault.veevavault.com"),
        ("https://www.zohoapis.com", "zoho_api", "https://www.zohoapis.com"),
        ("https://www.zohoapis.eu", "zoho_api", "https://www.zohoapis.eu"),
        ("https://sandbox.zohoapis.com.au", "zoho_api", "https://sandbox.zohoapis.com.au"),
        ("https://developer.zohoapis.in", "zoho_api", "https://developer.zohoapis.in"),
        ("https://accounts.zoho.com", "zoho_accounts", "https://accounts.zoho.com"),
        ("https://accounts.zoho.jp", "zoho_accounts", "https://accounts.zoho.jp"),
        ("https://accounts.zohocloud.ca", "zoho_accounts", "https://accounts.zohocloud.ca"),
    ],
)
def test_it_accepts_the_systems_own_hosts(url, kind, expected):
    assert check_base_url(url, kind) == expected


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        # https only
        ("http://myvault.veevavault.com", "vault"),
        ("ftp://myvault.veevavault.com", "vault"),
        ("myvault.veevavault.com", "vault"),
        ("//myvault.veevavault.com", "vault"),
        ("http://www.zohoapis.com", "zoho_api"),
        # other domains and look-alikes
        ("https://veevavault.com", "vault"),
        ("https://x.veevavault.com.evil.io", "vault"),
        ("https://evilveevavault.com", "vault"),
        ("https://x.veevavault.co", "vault"),
        ("https://x.veevavault.com.", "vault"),
        ("https://x..veevavault.com", "vault"),
        ("https://x_y.veevavault.com", "vault"),
        ("https://xn--80ak6aa92e.com", "vault"),
        ("https://ｘ．veevavault.com", "vault"),
        ("https://evil.io\\.veevavault.com", "vault"),
        ("https://x%2Eevil.io.veevavault.com", "vault"),
        ("https://www.zohoapis.com.evil.io", "zoho_api"),
        ("https://zohoapis.com", "zoho_api"),
        ("https://evil.zohoapis.com", "zoho_api"),
        ("https://accounts.zoho.com", "zoho_api"),
        ("https://www.zohoapis.com", "zoho_accounts"),
        ("https://accounts.zoho.ca", "zoho_accounts"),
        ("https://myvault.veevavault.com", "zoho_api"),
        # IP literals
        ("https://169.254.169.254", "vault"),
        ("https://127.0.0.1", "vault"),
        ("https://[::1]", "vault"),
        ("https://[fd00::1]", "zoho_api"),
        ("https://2130706433", "vault"),
        ("https://0x7f.0.0.1", "vault"),
        # userinfo
        ("https://user@myvault.veevavault.com", "vault"),
        ("https://user:pw@myvault.veevavault.com", "vault"),
        ("https://myvault.veevavault.com@evil.io", "vault"),
        ("https://evil.io\\@myvault.veevavault.com", "vault"),
        ("https://:@myvault.veevavault.com", "vault"),
        # other ports
        ("https://myvault.veevavault.com:8443", "vault"),
        ("https://myvault.veevavault.com:80", "vault"),
        ("https://myvault.veevavault.com:0", "vault"),
        ("https://myvault.veevavault.com:99999", "vault"),
        ("https://www.zohoapis.com:444", "zoho_api"),
        # paths, queries, fragments
        ("https://myvault.veevavault.com/api", "vault"),
        ("https://myvault.veevavault.com/?x=1", "vault"),
        ("https://myvault.veevavault.com/#frag", "vault"),
        ("https://myvault.veevavault.com/..%2f", "vault"),
        # garbage
        ("", "vault"),
        ("https://", "vault"),
        ("https://[::1", "vault"),
    ],
)
def test_it_refuses_anything_else(url, kind):
    with pytest.raises(ConfigurationError) as info:
        check_base_url(url, kind)
    assert info.value.error_type == "INVALID_URL"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8101", "http://localhost:8102", "https://127.0.0.1:9000", "http://[::1]:8101"]
)
def test_it_allows_loopback_only_when_asked(url):
    assert check_base_url(url, "vault", allow_loopback=True) == url
    assert check_base_url(url, "zoho_api", allow_loopback=True) == url
    with pytest.raises(ConfigurationError):
        check_base_url(url, "vault")


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254",
        "http://10.0.0.1:8101",
        "http://127.0.0.2:8101",
        "http://0.0.0.0:8101",
        "http://user@127.0.0.1:8101",
        "http://127.0.0.1:8101/path",
        "http://localhost.evil.io",
        "ftp://127.0.0.1:21",
    ],
)
def test_loopback_mode_still_refuses_other_addresses(url):
    with pytest.raises(ConfigurationError):
        check_base_url(url, "vault", allow_loopback=True)


def test_error_messages_never_echo_userinfo():
    with pytest.raises(ConfigurationError) as info:
        check_base_url("https://me:hunter2@myvault.veevavault.com", "vault")
    assert "hunter2" not in str(info.value)


# -- property: nothing outside the allowed domains ever gets through ----------------------------

LABEL = st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,8}\Z").filter(lambda s: not s.endswith("-"))
SUFFIXES = [
    ".veevavault.com",
    "veevavault.com",
    ".veevavault.com.evil.io",
    ".veevavault.com.",
    ".veevavault.co",
    "veevavault.com.evil.io",
    ".zohoapis.com",
    ".zohoapis.eu",
    ".zoho.com",
    ".zohocloud.ca",
    ".zohoapis.com.evil.io",
    ".evil.io",
    "",
    ".",
    ".veevavault.com%2eevil.io",
    "\\.veevavault.com",
    ".VEEVAVAULT.COM",
    "．veevavault.com",
]
FIXED_HOSTS = [
    "www.zohoapis.com",
    "accounts.zoho.com",
    "sandbox.zohoapis.com.au",
    "169.254.169.254",
    "[::1]",
    "[fd00::1]",
    "127.0.0.1",
    "localhost",
    "2130706433",
    "0x7f.1",
    "[::ffff:169.254.169.254]",
    "metadata.google.internal",
]
HOSTS = st.one_of(
    st.builds(lambda a, s: a + s, LABEL, st.sampled_from(SUFFIXES)),
    st.builds(lambda a, b, s: f"{a}.{b}{s}", LABEL, LABEL, st.sampled_from(SUFFIXES)),
    st.sampled_from(FIXED_HOSTS),
    st.text(min_size=1, max_size=30),
)
USERINFO = st.sampled_from(["", "user@", "user:pw@", "x.veevavault.com@", "@", ":@", "evil.io\\@"])
PORTS = st.one_of(
    st.just(""),
    st.sampled_from([":443", ":80", ":8443", ":0", ":", ":65536", ":-1"]),
    st.integers(0, 70000).map(lambda p: f":{p}"),
)
SCHEMES = st.sampled_from(["https://", "http://", "HTTPS://", "ftp://", "//", "", "https:/", "https:\\\\"])
TAILS = st.sampled_from(["", "/", "/api", "?a=1", "#x", "/\\evil.io", " ", "\t", "\n"])
URLS = st.one_of(st.builds(lambda *p: "".join(p), SCHEMES, USERINFO, HOSTS, PORTS, TAILS), st.text(max_size=60))


def _allowed(host: str, kind: str) -> bool:
    if kind == "zoho_api":
        return host in ZOHO_API_HOSTS
    if kind == "zoho_accounts":
        return host in ZOHO_ACCOUNTS_HOSTS
    labels = host.split(".")
    return (
        host.endswith(".veevavault.com")
        and len(labels) >= 3
        and all(label and all(c in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in label) for label in labels)
    )


@pytest.mark.slow  # 1,500 examples: about 35 s
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(url=URLS, kind=st.sampled_from(["vault", "zoho_api", "zoho_accounts"]))
@example(url="https://x.veevavault.com.evil.io", kind="vault")
@example(url="https://169.254.169.254", kind="vault")
@example(url="https://user@x.veevavault.com", kind="vault")
@example(url="https://x.veevavault.com:8443", kind="vault")
@example(url="http://x.veevavault.com", kind="vault")
def test_check_base_url_never_accepts_a_host_outside_the_allowed_domains(url, kind):
    try:
        result = check_base_url(url, kind)
    except ConfigurationError:
        return
    parts = urlsplit(result)
    assert parts.scheme == "https"
    assert parts.port is None and parts.username is None and parts.path == ""
    assert _allowed(parts.hostname, kind), (url, result)
    assert result == f"https://{parts.hostname}"
    # The HTTP stack, parsing the very same input, would connect to the same host.
    assert (parse_url(url.strip()).host or "").lower() == parts.hostname, (url, result)


@pytest.mark.parametrize(
    "api_domain, accounts",
    [
        ("https://www.zohoapis.com", "https://accounts.zoho.com"),
        ("https://www.zohoapis.eu", "https://accounts.zoho.eu"),
        ("https://sandbox.zohoapis.com.au", "https://accounts.zoho.com.au"),
        ("https://www.zohoapis.ca", "https://accounts.zohocloud.ca"),  # the one that breaks the pattern
        ("http://127.0.0.1:8102", "http://127.0.0.1:8102"),  # the sandbox serves both
    ],
)
def test_zoho_accounts_server_follows_the_api_domains_data_centre(api_domain, accounts):
    assert zoho_accounts_for(api_domain) == accounts
    assert urlsplit(accounts).hostname in ZOHO_ACCOUNTS_HOSTS | {"127.0.0.1"}


def test_same_host_compares_host_and_port_only():
    assert same_host("https://MyVault.veevavault.com/api", "https://myvault.veevavault.com")
    assert same_host("https://myvault.veevavault.com:443", "https://myvault.veevavault.com")
    assert not same_host("https://other.veevavault.com", "https://myvault.veevavault.com")
    assert not same_host("http://myvault.veevavault.com", "https://myvault.veevavault.com")  # port 80
    assert not same_host("not a url", "https://myvault.veevavault.com")
