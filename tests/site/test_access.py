"""Access: every URL but login, logout, health and the favicon needs a login; a business user sees only their
own (or shared) profiles and only their own jobs, anything else is a 404."""

import re
import uuid

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from records.models import ConnectionProfile, CopyJob

pytestmark = pytest.mark.django_db
PUBLIC = {
    "login",
    "logout",
    "health",
    "health_ready",
    "health_live",
    "health_ready_bare",
    "health_live_bare",
    "favicon",  # browsers ask for it on the login page too
    "admin:login",
    "admin_login_gate",
    "admin_logout",
    "admin:logout",
    "oidc_authentication_init",
    "oidc_authentication_callback",
}
# Fixed values: test ids are built from these URLs and must be the same in every process (xdist).
SAMPLES = {"int": "1", "str": "x", "path": "x/y", "slug": "x", "uuid": str(uuid.UUID(int=1))}


def _concrete(route: str) -> str:
    """Turn a pattern into a URL: converters get sample values, regex groups a word."""
    route = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: SAMPLES[m.group(1) or "str"], route)
    route = re.sub(r"\(\?P<\w+>[^)]*\)\??", "1", route)
    return "/" + route.replace("^", "").replace("$", "").replace("/?", "/").replace("\\", "")


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield f"{namespace}{p.name}" if p.name else "", _concrete(prefix + str(p.pattern))


ALL_URLS = sorted(set(_walk(get_resolver().url_patterns)))


def test_the_walk_covers_the_app_and_admin():
    names = {name for name, _ in ALL_URLS}
    assert {"home", "profile_list", "job_detail", "admin:index", "admin:records_recordresult_changelist"} <= names
    assert len(ALL_URLS) > 50


@pytest.mark.parametrize(
    "name, url", [u for u in ALL_URLS if u[0] not in PUBLIC], ids=lambda v: v if "/" in v else None
)
def test_every_url_needs_a_login(client, name, url):
    for method in (client.get, client.post):
        response = method(url)
        if url.startswith("/api/"):  # a pipeline is not sent to a login page: 401, with how to authenticate
            assert response.status_code == 401 and response.has_header("WWW-Authenticate"), (name, response)
            continue
        assert response.status_code == 302, f"{method.__name__} {url} ({name}) answered {response.status_code}"
        location = response["Location"]
        assert location.startswith((reverse(settings.LOGIN_URL), reverse("admin:login"))), location


def test_public_urls_answer_anonymous_users(client):
    assert client.get(reverse("login")).status_code == 200
    assert client.get(reverse("health_live")).json() == {"status": "ok"}
    assert client.get(reverse("health")).json()["checks"]["database"] == "ok"
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("admin:login")).status_code == 200


# -- querysets: what each user may see


def test_profiles_for_user_own_shared_and_staff(owner, other_user, staff, make_profile):
    mine = make_profile(name="Mine")
    theirs = make_profile(name="Theirs", user=other_user)
    by_group = make_profile(name="Team", user=other_user)
    team = Group.objects.create(name="team")
    owner.groups.add(team)
    by_group.shared_with_groups.add(team)
    by_user = make_profile(name="Direct", user=other_user)
    by_user.shared_with_users.add(owner)
    by_user.shared_with_groups.add(team)  # shared twice: listed once

    assert list(ConnectionProfile.objects.for_user(owner)) == [by_user, mine, by_group]
    assert list(ConnectionProfile.objects.for_user(other_user)) == [by_user, by_group, theirs]
    assert ConnectionProfile.objects.for_user(staff).count() == 4
    with pytest.raises(ConnectionProfile.DoesNotExist):
        ConnectionProfile.objects.for_user(owner).get(pk=theirs.pk)


def test_jobs_for_user_are_only_their_own(owner, other_user, make_job):
    mine = make_job()
    theirs = make_job(user=other_user)
    assert list(CopyJob.objects.for_user(owner)) == [mine]
    with pytest.raises(CopyJob.DoesNotExist):
        CopyJob.objects.for_user(owner).get(pk=theirs.pk)


# -- pages: every URL naming another user's profile or job is a 404


def _urls_with_codes(profile, job):
    """Every named app URL whose arguments are a profile or job code, filled with B's objects."""
    urls = []
    for pattern in get_resolver().url_patterns:
        if not isinstance(pattern, URLResolver) or pattern.namespace:
            continue
        for p in pattern.url_patterns:
            params = set(p.pattern.converters)
            if "code" in params and p.name.startswith("job_"):
                row = {"row": job.results.values_list("pk", flat=True).first()} if "row" in params else {}
                urls.append(reverse(p.name, kwargs={"code": job.code, **row}))
            elif "code" in params and p.name.startswith("profile_"):
                urls.append(reverse(p.name, kwargs={"code": profile.code}))
            elif "profile_code" in params:
                kwargs = {"profile_code": profile.code, "object_name": "product__v", "record_id": "P1"}
                urls.append(reverse(p.name, kwargs={k: kwargs[k] for k in params}))
    return urls


def test_user_a_gets_404_on_everything_of_user_b(owner_client, other_user, make_profile, make_job):
    theirs = make_profile(name="Theirs", user=other_user)
    job = make_job(user=other_user, profile=theirs, results=3, status=CopyJob.Status.PARTIAL)
    urls = _urls_with_codes(theirs, job)
    assert len(urls) >= 10
    for url in urls:
        # 405: the method is not offered at all (GET-only JSON/CSV, POST-only actions).
        statuses = {
            owner_client.get(url).status_code,
            owner_client.post(url, {"profile": str(theirs.code)}).status_code,
        }
        assert 404 in statuses and statuses <= {404, 405}, (url, statuses)
    job.refresh_from_db()
    assert job.status == CopyJob.Status.PARTIAL and ConnectionProfile.objects.filter(pk=theirs.pk).exists()


def test_staff_see_everything_in_the_admin(client, staff, other_user, make_job):
    job = make_job(user=other_user)
    client.force_login(staff)
    assert client.get(reverse("admin:records_copyjob_change", args=[job.pk])).status_code == 200
    assert client.get(reverse("admin:records_connectionprofile_change", args=[job.profile.pk])).status_code == 200
