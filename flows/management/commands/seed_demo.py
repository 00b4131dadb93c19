"""Load the demo (idempotent) and print the admin login."""

from __future__ import annotations

import importlib
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

DEMO_MODULES = ["messaging.demo", "integrations.demo", "flows.demo"]  # order: channels and assistants first


class Command(BaseCommand):
    help = "Create roles, an admin login and the demo channels, assistants and flows (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--no-banner", action="store_true",
                            help="Do not print the login (make run's supervisor prints it once the web answers).")

    def handle(self, *args, **options):
        for role in ("viewer", "editor", "admin"):
            Group.objects.get_or_create(name=role)
        username, password = self._admin()
        for name in DEMO_MODULES:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:
                    raise
                continue
            with transaction.atomic():
                module.seed(stdout=self.stdout)
        if options["no_banner"]:
            return
        port = os.environ.get("PORT", "8000")
        self.stdout.write(self.style.SUCCESS(
            "\n  Fluxo is ready.\n"
            f"  Open  http://127.0.0.1:{port}/           (editor)\n"
            f"        http://127.0.0.1:{port}/sandbox/   (sandbox phone: play the customer)\n"
            f"        http://127.0.0.1:{port}/admin/     (Django admin)\n"
            f"  Login {username} / {password}\n"))

    def _admin(self) -> tuple[str, str]:
        """The admin login: created once with a random password kept in var/ (readable by the owner only)."""
        username = os.environ.get("FLUXO_ADMIN_USER", "admin")
        secret_file = Path(settings.VAR_DIR) / "admin-password.txt"
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        password = os.environ.get("FLUXO_ADMIN_PASSWORD") or (secret_file.read_text().strip() if secret_file.exists() else "")
        if user is None or not password or not user.check_password(password):
            password = password or secrets.token_urlsafe(12)
            if user is None:
                user = user_model.objects.create_superuser(username=username, email="", password=password)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            secret_file.parent.mkdir(parents=True, exist_ok=True)
            secret_file.write_text(password + "\n")
            secret_file.chmod(0o600)
        user.groups.add(Group.objects.get(name="admin"))
        return username, password
