"""Personal tokens: a member's key to the team's EvoLink account for scripts and tools.

A token is `pgt_` and 43 random characters; only its SHA-256 is stored, so it exists in
plain only when issued. Its first characters (the prefix) name it in lists. Issuing and
revoking are in the audit log. The tokens page, the `token` command and the gateway call these.
"""

import ipaddress
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from . import audit, encryption, roles
from .models import Membership, PersonalToken, hash_token

Action = audit.Action

PREFIX = "pgt_"
# What lists show of a token: "pgt_" and its next 8 characters.
SHOWN_LENGTH = len(PREFIX) + 8
# Last use is written at most this often per token and address: a busy script must not
# turn every request into a write.
TOUCH_EVERY = timedelta(seconds=60)
# A new token's prefix is drawn again when taken; anything failing this often is no such clash.
PREFIX_DRAWS = 5

# Why a token was revoked, in the audit log, when its holder did not do it.
MEMBER_REMOVED = "member-removed"
MADE_VIEWER = "made-viewer"


def new_plain():
    return PREFIX + secrets.token_urlsafe(32)


@sensitive_variables("plain")
@transaction.atomic
def issue(team, user, *, name, expires_at=None, monthly_cap=None, actor=None):
    """A new token of `user` in `team`: (the token, its plain text). The plain text exists only here."""
    callback_secret = encryption.encrypt(secrets.token_urlsafe(32))
    for attempt in range(PREFIX_DRAWS):
        plain = new_plain()
        try:
            with transaction.atomic():  # a savepoint: a prefix taken already (48 random bits) draws again
                token = PersonalToken.objects.create(
                    team=team,
                    user=user,
                    name=name,
                    prefix=plain[:SHOWN_LENGTH],
                    token_hash=hash_token(plain),
                    expires_at=expires_at,
                    monthly_cap=monthly_cap,
                    callback_secret_encrypted=callback_secret,
                )
            break
        except IntegrityError:
            if attempt == PREFIX_DRAWS - 1:
                raise
    details = {"prefix": token.prefix, "member": user.get_username()}
    audit.record(team, actor or user, Action.TOKEN_CREATED, token.name, **details)
    return token, plain


@sensitive_variables("plain")
@transaction.atomic
def issue_own(actor, *, name, expires_at=None, monthly_cap=None):
    """A new token for `actor` (a membership) in their team, as their role now allows: (token, plain).

    roles.NotInTeam when they left or were removed a moment ago, PermissionDenied when they
    are a viewer now: a demotion that revoked their tokens must not be outrun by a new one.
    """
    actor = locked(actor)
    if not roles.may_hold_tokens(actor):
        raise PermissionDenied
    return issue(actor.team, actor.user, name=name, expires_at=expires_at, monthly_cap=monthly_cap)


def locked(membership):
    """The membership as it is now, locked until the transaction ends; roles.NotInTeam when gone."""
    rows = Membership.objects.select_for_update(of=("self",)).select_related("team", "user")
    membership = rows.filter(pk=membership.pk).first()
    if membership is None:
        raise roles.NotInTeam
    return membership


def visible_to(actor):
    """The team's tokens `actor` (a membership) sees: every one for owners and admins, else their own."""
    team_tokens = PersonalToken.objects.filter(team=actor.team).select_related("user")
    return team_tokens if roles.sees_every_token(actor) else team_tokens.filter(user=actor.user)


@transaction.atomic
def revoke_as(actor, prefix):
    """Revoke the token named by its `prefix` that `actor` (a membership) sees, deciding on their role as it is now.

    PersonalToken.DoesNotExist when they see no such token (another team's, a teammate's
    for a member), roles.NotInTeam when they are no longer in the team.
    """
    actor = locked(actor)
    token = visible_to(actor).select_related("team").get(prefix=prefix)
    revoke(token, actor.user)
    return token


def active():
    """Tokens not revoked, not expired, whose holder still may generate in the token's team."""
    now = timezone.now()
    return PersonalToken.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now),
        revoked_at__isnull=True,
        user__is_active=True,
        user__memberships__team=F("team"),
        user__memberships__role__in=[Membership.Role.OWNER, Membership.Role.ADMIN, Membership.Role.MEMBER],
    )


@sensitive_variables("raw")
def authenticate(raw):
    """The active token `raw` is, else None.

    Looked up by its hash, so no comparison of secrets leaks time.
    """
    if not isinstance(raw, str) or not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    return active().select_related("team", "user").filter(token_hash=hash_token(raw)).first()


def touch(token, address):
    """Record that `token` was used now from `address` (written at most once a minute per address)."""
    address = address if is_address(address) else None
    now = timezone.now()
    recent = token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY
    if recent and token.last_used_ip == address:
        return
    PersonalToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=address)
    token.last_used_at, token.last_used_ip = now, address


def is_address(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def revoke(token, actor, reason=""):
    """Revoke `token` (a no-op when it is revoked already); logged with `actor` as who did it."""
    now = timezone.now()
    if not PersonalToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
        return False
    token.revoked_at = now
    details = {"prefix": token.prefix, "member": token.user.get_username()}
    if reason:
        details["reason"] = reason
    audit.record(token.team, actor, Action.TOKEN_REVOKED, token.name, **details)
    return True


def revoke_all_of(membership, actor, reason=MEMBER_REMOVED):
    """Revoke every token the membership's person holds in its team (on removal, or when made a viewer)."""
    held = PersonalToken.objects.filter(team=membership.team, user=membership.user, revoked_at__isnull=True)
    for token in held.select_related("team", "user"):
        revoke(token, actor, reason)


def callback_secret(token):
    """The secret that signs callbacks for this token's tasks; the tokens page shows it to its holder."""
    return encryption.decrypt(token.callback_secret_encrypted)
