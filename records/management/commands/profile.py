"""Manage connection profiles from the shell: `profile add`, `profile update`, `profile test`, `profile list`.

Secrets are read only from the environment (COPIER_SECRET, COPIER_REFRESH_TOKEN), never from
argv, where `ps` and shell history would show them.
"""

from __future__ import annotations

import os
import sys

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from records import profiles
from records.models import ConnectionProfile, System


def _fail(reason: str):
    raise CommandError(reason, returncode=2)


class Command(BaseCommand):
    help = "Add, test or list connection profiles. Secrets come from $COPIER_SECRET and $COPIER_REFRESH_TOKEN."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Add a profile (secrets from the environment)")
        add.add_argument("name")
        add.add_argument("--system", required=True, choices=[s.value for s in System])
        add.add_argument("--url", required=True, help="Vault DNS URL or Zoho API domain")
        add.add_argument("--accounts-url", default="", help="Zoho accounts server")
        add.add_argument("--api-version", default="", help="Vault (default: the newest the app supports)")
        add.add_argument("--username", default="", help="Vault user name")
        add.add_argument("--client-id", default="", help="Zoho OAuth client id")
        add.add_argument("--owner", default="", help="user name of the owner (default: the first superuser)")
        add.add_argument("--concurrency", type=int, default=5)
        update = sub.add_parser("update", help="Change a profile (new secrets from the environment)")
        update.add_argument("name")
        update.add_argument("--system", choices=[s.value for s in System])
        update.add_argument("--url", help="Vault DNS URL or Zoho API domain")
        update.add_argument("--accounts-url", help="Zoho accounts server")
        update.add_argument("--api-version")
        update.add_argument("--username", help="Vault user name or Zoho client id")
        update.add_argument("--concurrency", type=int)
        test = sub.add_parser("test", help="Test a profile's connection")
        test.add_argument("name")
        sub.add_parser("list", help="List profiles")

    def handle(self, *args, action, **options):
        getattr(self, f"handle_{action}")(**options)

    def _owner(self, username: str):
        User = get_user_model()
        if username:
            try:
                return User.objects.get(**{User.USERNAME_FIELD: username})
            except User.DoesNotExist:
                _fail(f"No user {username!r}.")
        owner = User.objects.filter(is_superuser=True).order_by("pk").first()
        if owner is None:
            _fail("No --owner given and no superuser exists to own the profile.")
        return owner

    def handle_add(self, *, name, system, url, accounts_url, api_version, username, client_id, owner, concurrency, **_):
        login = client_id if system == System.ZOHO else username
        if not login:
            _fail("Give --client-id for Zoho." if system == System.ZOHO else "Give --username for Vault.")
        secret = os.environ.get("COPIER_SECRET", "")
        refresh_token = os.environ.get("COPIER_REFRESH_TOKEN", "")
        if not secret:
            _fail("Set the password / client secret in the environment variable COPIER_SECRET.")
        if system == System.ZOHO and not refresh_token:
            _fail("Set the Zoho refresh token in the environment variable COPIER_REFRESH_TOKEN.")
        user = self._owner(owner)
        try:
            profile = profiles.profile_create(
                name=name,
                system=system,
                base_url=url,
                accounts_url=accounts_url,
                api_version=api_version,
                username=login,
                secret=secret,
                refresh_token=refresh_token,
                owner=user,
                concurrency=concurrency,
                actor=None,
            )
        except ValidationError as exc:
            _fail(" ".join(exc.messages))
        self.stdout.write(f"Added profile {profile.name!r} ({profile.system}, {profile.base_url}) owned by {user}.")

    def handle_update(self, *, name, system, url, accounts_url, api_version, username, concurrency, **_):
        profile = ConnectionProfile.objects.filter(name=name).first()
        if profile is None:
            _fail(f"No profile named {name!r}.")
        changes = dict(
            system=system,
            base_url=url,
            accounts_url=accounts_url,
            api_version=api_version,
            username=username,
            concurrency=concurrency,
            secret=os.environ.get("COPIER_SECRET", ""),
            refresh_token=os.environ.get("COPIER_REFRESH_TOKEN", ""),
        )
        try:
            profile = profiles.profile_update(profile=profile, actor=None, **changes)
        except ValidationError as exc:
            _fail(" ".join(exc.messages))
        self.stdout.write(f"Updated profile {profile.name!r} ({profile.system}, {profile.base_url}).")
        missing = profiles.missing_secrets(profile)
        if missing:
            # The service cleared them because the address changed (or they were never set).
            names = ", ".join({"secret": "COPIER_SECRET", "refresh_token": "COPIER_REFRESH_TOKEN"}[m] for m in missing)
            self.stdout.write(
                f"It has no stored secrets for its address: run `profile update {profile.name}` again with {names} set."
            )

    def handle_test(self, *, name, **_):
        try:
            profile = ConnectionProfile.objects.get(name=name)
        except ConnectionProfile.DoesNotExist:
            _fail(f"No profile named {name!r}.")
        ok, message = profiles.profile_test(profile=profile, actor=None)
        if not ok:
            self.stderr.write(f"FAILED: {message}")
            sys.exit(1)
        self.stdout.write(f"OK: {message}")

    def handle_list(self, **_):
        rows = ConnectionProfile.objects.select_related("owner").order_by("name")
        for p in rows:
            tested = "never tested" if p.last_tested_at is None else ("ok" if p.last_test_ok else "failed")
            self.stdout.write(f"{p.name}\t{p.system}\t{p.base_url}\t{p.username}\towner={p.owner}\t{tested}")
        if not rows:
            self.stdout.write("No profiles.")
