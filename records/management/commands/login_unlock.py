"""Lift a login lock-out: `manage.py login_unlock --username alice [--ip 203.0.113.7]`."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from records.accounts.logins import login_unlock


class Command(BaseCommand):
    help = "Forget the failed logins of a user name and/or an address, so they may log in again (audited)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--username", default="")
        parser.add_argument("--ip", default="", help="the client address, as shown in the admin's Access attempts")

    def handle(self, *args: Any, username: str, ip: str, **options: Any) -> None:
        if not username and not ip:
            raise CommandError("Give --username, --ip or both.")
        cleared = login_unlock(actor=None, username=username, ip_address=ip, via="command")
        self.stdout.write(f"Cleared {cleared} failed-login record(s).")
