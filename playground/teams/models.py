import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import encryption

# The one rule for a monthly budget, in the words the budgets page and the admin show.
BUDGET_RULE = _("Enter a number of credits, 0 or more, with at most 2 decimals (or leave it blank for no limit).")
NOT_NEGATIVE = [MinValueValidator(0, message=BUDGET_RULE)]


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # The team's EvoLink account. The key is stored only encrypted (see `encryption`)
    # and shown only as its last four characters.
    api_key_encrypted = models.TextField(blank=True, editable=False)
    api_key_last4 = models.CharField(max_length=4, blank=True, editable=False)
    api_base_url = models.URLField(_("API base URL"), max_length=300, blank=True)
    files_base_url = models.URLField(_("file hosting base URL"), max_length=300, blank=True)
    # Only teams an operator allows may spend the deployment's own EVOLINK_API_KEY; a team
    # anyone can create starts on the sandbox until it sets a key of its own.
    may_use_deployment_key = models.BooleanField(_("may use the deployment's key"), default=False)

    monthly_budget = models.DecimalField(
        _("monthly credit budget"), max_digits=12, decimal_places=2, null=True, blank=True, validators=NOT_NEGATIVE
    )
    # The upstream asked the team's key to slow down (a 429 with Retry-After): nothing more
    # of the team's is let out of its line before then (see generations/queue.py).
    send_after = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self):
        return self.name

    @property
    def has_api_key(self):
        return bool(self.api_key_encrypted)

    def set_api_key(self, key):
        key = key.strip()
        self.api_key_encrypted = encryption.encrypt(key) if key else ""
        self.api_key_last4 = key[-4:] if key else ""


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        ADMIN = "admin", _("Admin")
        MEMBER = "member", _("Member")
        VIEWER = "viewer", _("Viewer")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role, default=Role.MEMBER)
    monthly_budget = models.DecimalField(
        _("monthly credit budget"), max_digits=12, decimal_places=2, null=True, blank=True, validators=NOT_NEGATIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")
        ]

    def __str__(self):
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def can_generate(self):
        return self.role != self.Role.VIEWER

    @property
    def can_manage(self):
        """Owners and admins invite people, change roles, remove members and read the audit log."""
        return self.role in (self.Role.OWNER, self.Role.ADMIN)

    @property
    def is_owner(self):
        return self.role == self.Role.OWNER


def hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """A single-use, expiring link that lets one person join a team with a role.

    Only a hash of the link's token is stored, so the link is shown once, when made.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(_("role"), max_length=10, choices=Membership.Role, default=Membership.Role.MEMBER)
    note = models.CharField(_("for whom"), max_length=200, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.role} invitation to {self.team}"

    @classmethod
    def issue(cls, team, created_by, role, note=""):
        """A new invitation and the token for its link (the only time the token exists)."""
        token = secrets.token_urlsafe(32)
        invitation = cls.objects.create(
            team=team,
            role=role,
            note=note,
            created_by=created_by,
            token_hash=hash_token(token),
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_DAYS),
        )
        return invitation, token

    @property
    def is_pending(self):
        """`InvitationQuerySet.pending`'s rule, for an invitation already loaded."""
        return not self.accepted_at and not self.revoked_at and self.expires_at > timezone.now()

    def revoke(self):
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])


class PersonalToken(models.Model):
    """A member's key to the team's EvoLink account for scripts and tools (see `tokens`).

    Only a hash of the token is stored, so it is shown once, when made; the prefix, its
    first characters, names it in lists.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="tokens")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personal_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    monthly_cap = models.DecimalField(
        _("monthly credit cap"), max_digits=12, decimal_places=2, null=True, blank=True, validators=NOT_NEGATIVE
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    # The secret that signs the callbacks of this token's tasks (HMAC), encrypted like the team's key.
    callback_secret_encrypted = models.TextField(editable=False)

    class Meta:
        verbose_name = _("personal token")
        verbose_name_plural = _("personal tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self):
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self):
        return self.revoked_at is None and not self.is_expired


class AuditEvent(models.Model):
    """Who changed what in a team, and when. Never holds a secret, only what changed."""

    class Action(models.TextChoices):
        KEY_SET = "key.set", _("API key set")
        KEY_REMOVED = "key.removed", _("API key removed")
        UPSTREAM_CHANGED = "upstream.changed", _("Base URL changed")
        INVITATION_CREATED = "invitation.created", _("Invitation created")
        INVITATION_REVOKED = "invitation.revoked", _("Invitation revoked")
        INVITATION_ACCEPTED = "invitation.accepted", _("Invitation accepted")
        MEMBER_ADDED = "member.added", _("Member added")
        ROLE_CHANGED = "member.role", _("Role changed")
        MEMBER_REMOVED = "member.removed", _("Member removed")
        MEMBER_LEFT = "member.left", _("Member left")
        BUDGET_CHANGED = "budget.changed", _("Budget changed")
        TEAM_CREATED = "team.created", _("Team created")
        GENERATION_DELETED = "generation.deleted", _("Generation deleted")
        TOKEN_CREATED = "token.created", _("Personal token created")
        TOKEN_REVOKED = "token.revoked", _("Personal token revoked")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too, so the log still says who after an account is deleted.
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=30, choices=Action)
    target = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "-created_at", "-id"], name="audit_team_recent")]

    def __str__(self):
        return f"{self.actor_name} {self.action} {self.target}"
