"""Who may use and change a profile (records/profiles/access.py): staff without permissions see and
edit only their own profiles; the change permission opens everyone's."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_staff_without_permissions_cannot_use_or_edit_other_peoples_profiles(client, bare_staff, make_profile):
    """Found by the access matrix: is_staff alone used to show (and let edit) every profile."""
    profile = make_profile()
    client.force_login(bare_staff)
    assert client.get(reverse("profile_edit", args=[profile.code])).status_code == 404
    assert client.post(reverse("profile_delete", args=[profile.code])).status_code == 404
    assert profile.name not in client.get(reverse("profile_list")).content.decode()
    bare_staff.user_permissions.add(Permission.objects.get(codename="change_connectionprofile"))
    bare_staff = type(bare_staff).objects.get(pk=bare_staff.pk)  # drop the cached permissions
    client.force_login(bare_staff)
    assert client.get(reverse("profile_edit", args=[profile.code])).status_code == 200
