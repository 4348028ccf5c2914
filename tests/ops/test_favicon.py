"""/favicon.ico: browsers ask for it on every page whatever the <link rel=icon> says; it leads to
the svg icon, also for a visitor who has not signed in."""

import pytest

pytestmark = pytest.mark.django_db


def test_favicon_ico_leads_to_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code in (301, 302)
    assert response["Location"].endswith("/records/favicon.svg")
