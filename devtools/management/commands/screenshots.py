"""`python manage.py screenshots`: the README's pictures of the playground, made afresh.

Starts the app as `manage.py up` does, on a scratch data folder and the built-in sandbox,
signs in as the demo user, generates a couple of images through the page and saves a
desktop (1440 × 900) and a phone (390 × 844) screenshot to docs/screenshots/.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from devtools.screenshots import scratch_app, take


class Command(BaseCommand):
    # The scratch app checks itself; this process must not open the installation's own database.
    requires_system_checks = []
    help = "Save the README's desktop and phone screenshots of the playground, made on a scratch app and the sandbox."

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, default=settings.BASE_DIR / "docs" / "screenshots")

    def handle(self, *args, out, **options):
        with scratch_app() as app:
            self.stdout.write(f"Scratch app at {app.url}; generating and taking the screenshots...")
            for path in take(app, out):
                self.stdout.write(f"  {path} ({path.stat().st_size // 1024} KB)")
