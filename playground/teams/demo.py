"""The demo team and login that `manage.py up` prints for a newcomer."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Membership, Team

DEMO_USERNAME = "demo"


@transaction.atomic
def ensure_demo_login():
    """Create the demo team and user once; return (username, password).

    The password is random per installation and kept beside the database, so the
    login printed at every start stays the same and sessions survive restarts.
    """
    team, _ = Team.objects.get_or_create(
        slug="demo", defaults={"name": "Demo team", "may_use_deployment_key": True}
    )
    password_file = settings.DATA_DIR / "demo_password"
    user, created = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
    if created or not password_file.exists():
        password_file.write_text(secrets.token_urlsafe(9))
        password_file.chmod(0o600)
        user.set_password(password_file.read_text().strip())
        user.save()
    Membership.objects.get_or_create(
        team=team, user=user, defaults={"role": Membership.Role.OWNER}
    )
    return DEMO_USERNAME, password_file.read_text().strip()
