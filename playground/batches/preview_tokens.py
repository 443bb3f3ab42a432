"""The token a preview gives the Start button: nothing starts but what was previewed, and once.

A preview signs what it showed (the form's fingerprint, see forms.BatchForm.fingerprint),
for whom, and a random nonce. The start reads the form again and redeems the token only if
the fingerprint is still the same; the batch it starts keeps the nonce (Batch.preview_nonce,
unique in its team), so a second start with the same token finds the first batch instead
of making another (see runs.start).
"""

import secrets
from datetime import timedelta

from django.core import signing
from django.utils.translation import gettext_lazy as _

SALT = "playground.batches.preview-token"
MAX_AGE = timedelta(hours=3)  # a preview older than this shows budgets and references as they were

MISSING = _("Preview the batch first to see what will be sent.")
CHANGED = _("Preview the batch again: it has changed since its preview.")


class Refused(Exception):
    """The start has no preview to go by, or not this one: the sentence says which."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def issue(membership, fingerprint):
    seen = {"team": membership.team_id, "user": membership.user_id, "seen": fingerprint}
    return signing.dumps({**seen, "nonce": secrets.token_urlsafe(16)}, salt=SALT)


def redeem(token, membership, fingerprint):
    """The token's nonce when it was given for this member's preview of this very batch;
    Refused when it is missing, altered, too old, or for something else."""
    if not token:
        raise Refused(MISSING)
    try:
        found = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:  # expired too
        raise Refused(CHANGED) from None
    seen = {"team": membership.team_id, "user": membership.user_id, "seen": fingerprint}
    if not isinstance(found, dict) or any(found.get(key) != value for key, value in seen.items()):
        raise Refused(CHANGED)
    return found["nonce"]
