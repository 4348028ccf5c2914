"""Response headers the app adds itself (records/web/middleware.py): pages for a logged-in user are
`private, no-store`."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_authenticated_pages_are_not_cached(owner_client, make_profile):
    profile = make_profile()
    for url in (reverse("home"), reverse("profile_list"), reverse("profile_edit", args=[profile.code])):
        response = owner_client.get(url)
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-store", url
