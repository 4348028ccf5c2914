"""Manage connection profiles from the shell: `profile add`, `profile update`, `profile test`,
`profile list`, `profile copy-keys` (which objects have a copy-key field; staff add one) and
`profile masking NAME (--show | --set OBJECT:FIELD=RULE... | --import FILE | --export | --rotate-key)`.

Secrets are read only from the environment (COPIER_SECRET, COPIER_REFRESH_TOKEN), never from
argv, where `ps` and shell history would show them.
"""

from __future__ import annotations

import json
import os
import sys
from argparse import ArgumentParser
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any, NoReturn

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from records.copying import mask_policy
from records.lib.error_words import friendly_error
from records.masking import keys as masking_keys
from records.masking import rules as masking_rules
from records.models import ConnectionProfile, System
from records.profiles import copy_keys
from records.profiles import services as profile_services

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.core.management.base import OutputWrapper


def _fail(reason: str) -> NoReturn:
    raise CommandError(reason, returncode=2)


class Command(BaseCommand):
    help = "Add, test or list connection profile_services. Secrets come from $COPIER_SECRET and $COPIER_REFRESH_TOKEN."
    stealth_options = ("stdin",)  # where --add reads its confirmation (tests pass one)

    def add_arguments(self, parser: ArgumentParser) -> None:
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
        add.add_argument("--protected", action="store_true", help="copies into it wait for approval")
        update = sub.add_parser("update", help="Change a profile (new secrets from the environment)")
        update.add_argument("name")
        update.add_argument("--system", choices=[s.value for s in System])
        update.add_argument("--url", help="Vault DNS URL or Zoho API domain")
        update.add_argument("--accounts-url", help="Zoho accounts server")
        update.add_argument("--api-version")
        update.add_argument("--username", help="Vault user name or Zoho client id")
        update.add_argument("--concurrency", type=int)
        protect = sub.add_parser("protect", help="Make copies into a profile wait for approval (--off: no longer)")
        protect.add_argument("name")
        protect.add_argument("--off", action="store_true", help="lift the protection")
        test = sub.add_parser("test", help="Test a profile's connection")
        test.add_argument("name")
        sub.add_parser("list", help="List profiles")
        keys = sub.add_parser(
            "copy-keys",
            help="List the profile's objects and whether each has a copy-key field; --add creates it (staff)",
        )
        keys.add_argument("name")
        keys.add_argument("--json", action="store_true", help="print JSON")
        keys.add_argument("--add", nargs="+", metavar="OBJECT", help="create the copy-key field on these objects")
        keys.add_argument("--yes", action="store_true", help="create without asking")
        keys.add_argument("--user", default="", help="who adds them: staff who may change profiles (with --add)")

        masking = sub.add_parser(
            "masking", help="Show, set, import or export a profile's masking policy; rotate its key"
        )
        masking.add_argument("name")
        what = masking.add_mutually_exclusive_group(required=True)
        what.add_argument("--show", action="store_true", help="the policy and whether the key is made")
        what.add_argument(
            "--set", nargs="+", metavar="OBJECT:FIELD=RULE", help="add or change rules (=keep removes one)"
        )
        what.add_argument("--import", dest="import_file", metavar="FILE", help="replace the policy with this JSON file")
        what.add_argument("--export", action="store_true", help="print the policy as JSON")
        what.add_argument("--rotate-key", action="store_true", help="a new key: later copies get new stand-ins")
        masking.add_argument("--user", default="", help="who changes it (audited; default: the profile's owner)")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        getattr(self, f"handle_{action.replace('-', '_')}")(**options)

    def _owner(self, username: str) -> User:
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

    def handle_add(
        self,
        *,
        name: str,
        system: str,
        url: str,
        accounts_url: str,
        api_version: str,
        username: str,
        client_id: str,
        owner: str,
        concurrency: int,
        protected: bool,
        **_: Any,
    ) -> None:
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
            profile = profile_services.profile_create(
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
                protected=protected,
                actor=None,
            )
        except ValidationError as exc:
            _fail(" ".join(exc.messages))
        guarded = " Protected: copies into it wait for approval." if profile.protected else ""
        self.stdout.write(
            f"Added profile {profile.name!r} ({profile.system}, {profile.base_url}) owned by {user}.{guarded}"
        )

    def handle_protect(self, *, name: str, off: bool, **_: Any) -> None:
        profile = profile_services.profile_set_protected(profile=self._profile(name), protected=not off, actor=None)
        words = "protected: copies into it wait for approval" if profile.protected else "not protected"
        self.stdout.write(f"Profile {profile.name!r} is {words}.")

    def handle_update(
        self,
        *,
        name: str,
        system: str | None,
        url: str | None,
        accounts_url: str | None,
        api_version: str | None,
        username: str | None,
        concurrency: int | None,
        **_: Any,
    ) -> None:
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
            profile = profile_services.profile_update(profile=profile, actor=None, **changes)
        except ValidationError as exc:
            _fail(" ".join(exc.messages))
        self.stdout.write(f"Updated profile {profile.name!r} ({profile.system}, {profile.base_url}).")
        missing = profile_services.missing_secrets(profile)
        if missing:
            # The service cleared them because the address changed (or they were never set).
            names = ", ".join({"secret": "COPIER_SECRET", "refresh_token": "COPIER_REFRESH_TOKEN"}[m] for m in missing)
            self.stdout.write(
                f"It has no stored secrets for its address: run `profile update {profile.name}` again with {names} set."
            )

    def handle_test(self, *, name: str, **_: Any) -> None:
        try:
            profile = ConnectionProfile.objects.get(name=name)
        except ConnectionProfile.DoesNotExist:
            _fail(f"No profile named {name!r}.")
        ok, message = profile_services.profile_test(profile=profile, actor=None)
        if not ok:
            self.stderr.write(f"FAILED: {message}")
            sys.exit(1)
        self.stdout.write(f"OK: {message}")

    def handle_list(self, **_: Any) -> None:
        rows = ConnectionProfile.objects.select_related("owner").order_by("name")
        for p in rows:
            tested = "never tested" if p.last_tested_at is None else ("ok" if p.last_test_ok else "failed")
            guarded = "\tprotected" if p.protected else ""
            self.stdout.write(f"{p.name}\t{p.system}\t{p.base_url}\t{p.username}\towner={p.owner}\t{tested}{guarded}")
        if not rows:
            self.stdout.write("No profile_services.")

    def handle_copy_keys(
        self, *, name: str, json: bool, add: list[str] | None, yes: bool, user: str, **options: Any
    ) -> None:
        profile = self._profile(name)
        if add:
            self._add_copy_keys(profile, add, as_json=json, yes=yes, username=user, stdin=options.get("stdin"))
            return
        try:
            states = copy_keys.profile_copy_keys(profile=profile)
        except Exception as exc:  # noqa: BLE001 - the remote's refusal in plain words
            _fail(friendly_error(exc, profile))
        if json:
            self.stdout.write(_json({"profile": profile.name, "system": profile.system, **_listing(states)}))
            return
        if copy_keys.copy_keys_off():
            self.stdout.write("COPY_KEY_FIELDS is set empty: copies use no copy key.")
        width = max((len(s.object_name) for s in states), default=6)
        for state in states:
            guard = state.field or (
                "? " + state.error if state.error else "none (found by name, parent and creation time)"
            )
            self.stdout.write(f"{state.object_name:<{width}}  {guard}")
        self.stdout.write(
            f"{sum(1 for s in states if s.field)} of {len(states)} objects have a copy key."
            + (
                f" Add one: profile copy-keys {profile.name!r} --add OBJECT --user STAFF"
                if any(not s.field for s in states)
                else ""
            )
        )

    def _add_copy_keys(
        self,
        profile: ConnectionProfile,
        objects: list[str],
        *,
        as_json: bool,
        yes: bool,
        username: str,
        stdin: IO[str] | None,
    ) -> None:
        if not username:
            _fail("Give --user: staff who may change connection profiles add copy-key fields.")
        actor = self._owner(username)
        try:
            plan = copy_keys.profile_copy_key_plan(profile=profile, objects=objects, user=actor)
        except PermissionDenied as exc:
            _fail(str(exc))
        except ValidationError as exc:
            _fail(" ".join(exc.messages))
        out = self.stderr if as_json else self.stdout
        out.write(f"This creates in {profile.get_system_display()} ({profile.name}, {profile.base_url}):")
        for d in plan:
            out.write(
                f"  {d.object_name}: field {d.name}, label {d.label!r}, type {d.type}, length {d.length}, "
                f"{'unique' if d.unique else 'not unique'}. {d.note}"
            )
            out.write("    " + d.call.replace("\n", "\n    "))
        if not yes and not _confirmed(out, stdin):
            _fail("Nothing was created.")
        added = copy_keys.profile_add_copy_keys(profile=profile, objects=[d.object_name for d in plan], user=actor)
        if as_json:
            self.stdout.write(_json({"profile": profile.name, "added": [a.__dict__ for a in added]}))
        else:
            for a in added:
                self.stdout.write(
                    f"{a.object_name}: added {a.field}" if not a.error else f"{a.object_name}: FAILED: {a.error}"
                )
        if any(a.error for a in added):
            raise CommandError("Some copy-key fields were not created.", returncode=1)

    def handle_masking(
        self,
        *,
        name: str,
        show: bool,
        set: list[str] | None,  # noqa: A002 (the flag's name)
        import_file: str | None,
        export: bool,
        rotate_key: bool,
        user: str,
        **_: Any,
    ) -> None:
        profile = self._profile(name)
        if export:
            self.stdout.write(_json(masking_keys.policy_of(profile)))
            return
        if show:
            self._show_masking(profile)
            return
        actor = self._owner(user) if user else profile.owner
        if rotate_key:
            masking_keys.masking_key_rotate(profile=profile, user=actor)
            self.stdout.write(f"{profile.name}: a new masking key; copies from now on get new stand-ins.")
            return
        try:
            policy = (
                _read_policy(import_file) if import_file else mask_policy.policy_with(profile=profile, items=set or [])
            )
            mask_policy.policy_save(profile=profile, policy=policy, user=actor)
        except ValidationError as exc:
            _fail(" ".join(exc.messages))
        self._show_masking(profile)

    def _show_masking(self, profile: ConnectionProfile) -> None:
        made = profile.masking_key_set_at
        self.stdout.write(
            f"Key: {'made ' + made.isoformat() if made else 'not made yet (made by the first masked copy)'}"
        )
        policy = masking_keys.policy_of(profile)
        if not policy:
            self.stdout.write("Policy: none")
        for obj, fields in sorted(policy.items()):
            for field, rule in sorted(fields.items()):
                self.stdout.write(f"{obj}:{field}={rule}")

    def _profile(self, name: str) -> ConnectionProfile:
        found = list(ConnectionProfile.objects.filter(name=name)[:2])
        if not found:
            _fail(f"No profile named {name!r}.")
        if len(found) > 1:
            _fail(f"Several profiles are named {name!r}; rename one in the admin.")
        return found[0]


def _confirmed(out: OutputWrapper, stdin: IO[str] | None) -> bool:
    out.write("Create these fields? [y/N] ")
    answer = (stdin or sys.stdin).readline()
    return answer.strip().lower() in ("y", "yes")


def _listing(states: Iterable[copy_keys.CopyKeyState]) -> dict[str, Any]:
    return {
        "copy_keys_off": copy_keys.copy_keys_off(),
        "objects": [
            {
                "object": s.object_name,
                "label": s.label,
                "copy_key": s.field or None,
                **({"error": s.error} if s.error else {}),
            }
            for s in states
        ],
    }


def _read_policy(path: str) -> masking_rules.Rules:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        _fail(f"{path}: not a JSON file the command can read ({exc}).")
    return masking_keys.parse_policy(data)


def _json(data: object) -> str:
    return json.dumps(data, indent=2)
