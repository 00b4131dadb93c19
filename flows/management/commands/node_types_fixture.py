"""Write (or --check) the editor's node-types test fixture from the backend registry."""

from django.core.management.base import BaseCommand, CommandError

from flows.nodes.fixture import FIXTURE, node_types_json


class Command(BaseCommand):
    help = "Regenerate frontend/src/test/fixtures/node-types.json from the node-type registry."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Fail if the file is not up to date.")

    def handle(self, *args, check=False, **options):
        wanted = node_types_json()
        current = FIXTURE.read_text(encoding="utf-8") if FIXTURE.exists() else ""
        if check:
            if current != wanted:
                raise CommandError(f"{FIXTURE} is stale: run `python manage.py node_types_fixture`")
            self.stdout.write("node-types fixture is up to date")
            return
        FIXTURE.write_text(wanted, encoding="utf-8")
        self.stdout.write(f"wrote {FIXTURE}")
