"""Reference images on the service's file hosting: uploaded when a task needs them, deleted
once no unfinished generation does.

The hosting keeps at most so many files an account (100 by default, CONTRACT.md), each for
72 hours, and refuses an upload past that (code 40003). So that the quota never stops work:

- a generation that ends releases its hosted files (`release_finished`), and the tracker's
  sweep (`sweep`) deletes those whose release was missed or failed;
- before an upload, a full quota (by `GET /api/v1/files/quota`, or a 40003 answer) is freed
  of the files no unfinished generation needs, oldest first, and the upload is tried again;
- only a quota full of files that unfinished work needs fails the generation (HostingQuotaInUse).

A file is deleted by its id, on the account that hosted it: `hosted_account` is a keyed hash
of that account's file host and key, so references of any team hosted on the same account
(the built-in sandbox's, the deployment's) can free each other's places, and a file on an
account the team no longer uses is left to expire. A reference whose URL is cleared but whose
id is kept is a file still to delete.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DatabaseError
from django.db.models import Case, When
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.dateparse import parse_datetime

from playground.evolink import errors
from playground.teams.upstream import account_for, client_from

from .bucket import in_bucket
from .models import RUNNING, Generation, GenerationReference, Reference

log = logging.getLogger(__name__)

# Hosted files live 72 hours; one with less than this left is uploaded again.
HOSTING_MARGIN = timedelta(hours=2)
HOSTING_LIFETIME = timedelta(hours=72)
SWEEP_BATCH = 200


def account_tag(account):
    """Which hosting account a file is on, without keeping the key."""
    value = f"{account.files_base_url.rstrip('/')}\n{account.api_key}"
    return salted_hmac("playground.generations.hosting", value, algorithm="sha256").hexdigest()[:32]


# -- hosting -------------------------------------------------------------------------


def hosted_url(reference, client, account):
    """A URL the service can fetch the reference from.

    With S3_REFERENCE_URLS the bucket signs a new link for every task: signing costs
    nothing, and a link signed with short-lived credentials (an instance role) dies with
    them. Otherwise the file is uploaded to the service's file hosting, again only once
    the last upload is about to run out.
    """
    if settings.S3_REFERENCE_URLS and in_bucket():
        return default_storage.url(reference.file.name, expire=settings.S3_REFERENCE_URL_SECONDS)
    if reference.is_hosted(HOSTING_MARGIN):
        return reference.hosted_url
    tag = account_tag(account)
    if reference.hosted_file_id and reference.hosted_account == tag:
        release(reference, client)  # the copy about to expire, unless unfinished work needs it
    make_room(client, tag)
    try:
        hosted = upload(reference, client)
    except errors.HostingQuotaFull:
        if not free(client, tag, 1):
            raise errors.HostingQuotaInUse(code=errors.HostingQuotaInUse.CODE) from None
        try:
            hosted = upload(reference, client)
        except errors.HostingQuotaFull:
            raise errors.HostingQuotaInUse(code=errors.HostingQuotaInUse.CODE) from None
    until = parse_datetime(hosted.expires_at or "") or timezone.now() + HOSTING_LIFETIME
    fields = {
        "hosted_url": hosted.file_url,
        "hosted_until": until,
        "hosted_file_id": hosted.file_id,
        "hosted_account": tag,
    }
    Reference.objects.filter(pk=reference.pk).update(**fields)
    for name, value in fields.items():
        setattr(reference, name, value)
    return hosted.file_url


def upload(reference, client):
    name = f"reference-{reference.public_id}.{reference.extension}"
    with default_storage.open(reference.file.name) as stored:
        return client.upload_file(stored, name, reference.content_type)


def make_room(client, tag):
    """Free places in a full quota, or HostingQuotaInUse when every file is needed."""
    try:
        quota = client.file_quota()
    except errors.EvoLinkError as error:  # a service without the quota call: the upload will tell
        log.info("file quota not read (%s): uploading anyway", error.code or type(error).__name__)
        return
    if quota.full and not free(client, tag, quota.used - quota.max + 1):
        raise errors.HostingQuotaInUse(code=errors.HostingQuotaInUse.CODE)


# -- freeing -------------------------------------------------------------------------


def not_needed(references):
    """Those of `references` that no unfinished generation may still need."""
    running = Generation.objects.filter(status__in=RUNNING)
    images = GenerationReference.objects.filter(generation__in=running).values("reference_id")
    masks = running.filter(mask__isnull=False).values("mask_id")
    return references.exclude(pk__in=images).exclude(pk__in=masks)


def deletable():
    """References with a hosted file that no unfinished generation needs."""
    return not_needed(Reference.objects.exclude(hosted_file_id=""))


def free(client, tag, count):
    """Delete up to `count` (at least one) files of the account no unfinished generation needs,
    oldest first (a file still to delete before any live one); how many went."""
    freed = 0
    still_to_delete = Case(When(hosted_url="", then=0), default=1)
    candidates = deletable().filter(hosted_account=tag).order_by(still_to_delete, "hosted_until", "pk")
    for reference in candidates[: max(count, 1) * 2]:  # some may be taken by unfinished work meanwhile
        freed += release(reference, client)
        if freed >= max(count, 1):
            break
    return freed


def release(reference, client):
    """Delete the reference's hosted file unless an unfinished generation needs it. True when it went.

    The URL is cleared first, in one statement that checks the need, so that nothing starts
    using the file while it is deleted; the id is kept until the service confirms.
    """
    file_id = reference.hosted_file_id
    mine = Reference.objects.filter(pk=reference.pk, hosted_file_id=file_id).exclude(hosted_file_id="")
    if not not_needed(mine).update(hosted_url=""):
        return False
    reference.hosted_url = ""
    try:
        client.delete_file(file_id)
    except errors.NotFound:
        pass  # expired, or deleted already
    except errors.EvoLinkError as error:
        log.warning("hosted file %s not deleted, the sweep will try again: %s", file_id, error.code)
        return False
    mine.update(hosted_file_id="", hosted_account="", hosted_until=None)
    reference.hosted_file_id = reference.hosted_account = ""
    return True


def release_finished(generation):
    """Delete the hosted files of a generation that has ended, those no unfinished work needs.
    Never raises: the generation has ended already, and what is left the sweep deletes."""
    try:
        references = Reference.objects.filter(pk__in=_references_of(generation)).exclude(hosted_file_id="")
        if references:
            _release_all(generation.team, references)
    except DatabaseError as error:  # a database locked or away for a moment
        log.warning("hosted files of %s left to the sweep: %s", generation.public_id, error)


def _references_of(generation):
    ids = list(generation.reference_links.values_list("reference_id", flat=True))
    return ids + [generation.mask_id] if generation.mask_id else ids


def _release_all(team, references):
    try:
        account = account_for(team)
        client = client_from(account)
    except errors.EvoLinkError:  # no account, or an unreadable key: the files will expire
        return
    tag = account_tag(account)
    for reference in references:
        if reference.hosted_account == tag:
            release(reference, client)


def sweep(batch=SWEEP_BATCH):
    """Delete the hosted files no unfinished generation needs (a release missed or failed), and
    forget those past their 72 hours: the service has dropped them."""
    Reference.objects.exclude(hosted_file_id="").filter(hosted_until__lt=timezone.now()).update(
        hosted_url="", hosted_file_id="", hosted_account="", hosted_until=None
    )
    leftovers = deletable().select_related("team").order_by("team_id", "hosted_until")[:batch]
    by_team = {}
    for reference in leftovers:
        by_team.setdefault(reference.team, []).append(reference)
    for team, references in by_team.items():
        _release_all(team, references)
