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
id is kept is a file still to delete; so is a ReplacedHostedFile (a copy replaced by a new
upload, or the loser of two uploads of one reference at once): no id is forgotten while its
file lives. Files the app holds no id for (hosted before ids were kept, orphans) are found
through the account's file list when nothing else can be freed.

Deletes use a short timeout and no retries (`deleting_client`): they run beside finishing work,
and what fails the sweep deletes later.
"""

import logging
from datetime import UTC, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.db.models import Case, Q, When
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.dateparse import parse_datetime

from playground.evolink import errors
from playground.teams.models import Team
from playground.teams.upstream import account_for, client_from

from .bucket import in_bucket
from .models import RUNNING, Generation, GenerationReference, Reference, ReplacedHostedFile

log = logging.getLogger(__name__)

# Hosted files live 72 hours; one with less than this left is uploaded again.
HOSTING_MARGIN = timedelta(hours=2)
HOSTING_LIFETIME = timedelta(hours=72)
SWEEP_BATCH = 200
UPLOAD_TRIES = 3
# A listed file no reference names, uploaded this recently, may be a submit's not yet stored.
UNNAMED_GRACE = timedelta(minutes=10)
LIST_PAGE_SIZE = 100
LIST_PAGES = 10
NOT_HOSTED = {"hosted_url": "", "hosted_file_id": "", "hosted_account": "", "hosted_until": None}


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
    the last upload is about to run out (or was made on another account).
    """
    if settings.S3_REFERENCE_URLS and in_bucket():
        return default_storage.url(reference.file.name, expire=settings.S3_REFERENCE_URL_SECONDS)
    tag = account_tag(account)
    if usable(reference, tag):
        return reference.hosted_url
    deleter = deleting_client(account)
    replace_old_copy(reference, deleter, tag)
    if usable(reference, tag):  # another submit replaced it meanwhile
        return reference.hosted_url
    hosted = upload_with_room(reference, client, deleter, tag)
    return keep(reference, hosted, deleter, tag, lambda: hosted_url(reference, client, account))


def usable(reference, tag):
    return reference.is_hosted(HOSTING_MARGIN) and reference.hosted_account == tag


def deleting_client(account):
    """One short attempt per delete: a files host that is away must not stall the caller."""
    return client_from(account, polling=True)


def upload(reference, client):
    name = f"reference-{reference.public_id}.{reference.extension}"
    with default_storage.open(reference.file.name) as stored:
        return client.upload_file(stored, name, reference.content_type)


def upload_with_room(reference, client, deleter, tag):
    """Upload, freeing places first when the quota is full. Another upload may take a place
    just freed, so a refused upload frees and tries again, a few times."""
    make_room(client, deleter, tag)
    for _attempt in range(UPLOAD_TRIES):
        try:
            return upload(reference, client)
        except errors.HostingQuotaFull:
            free_or_fail(client, deleter, tag, 1)
    raise errors.HostingQuotaInUse(code=errors.HostingQuotaInUse.CODE)


def make_room(client, deleter, tag):
    """Free places in a full quota, or fail when none can be freed."""
    try:
        quota = client.file_quota()
    except errors.EvoLinkError as error:  # a service without the quota call: the upload will tell
        log.info("file quota not read (%s): uploading anyway", error.code or type(error).__name__)
        return
    if quota.full:
        free_or_fail(client, deleter, tag, quota.used - quota.max + 1)


def replace_old_copy(reference, deleter, tag):
    """Move the reference's old file (near its expiry, on another account, or still to delete)
    to the files to delete, and delete it now when it is on this account: it is being replaced."""
    file_id = reference.hosted_file_id
    if not file_id:
        return
    with transaction.atomic():
        cleared = Reference.objects.filter(pk=reference.pk, hosted_file_id=file_id).update(**NOT_HOSTED)
        if cleared:
            replaced = ReplacedHostedFile.objects.create(
                team_id=reference.team_id,
                file_id=file_id,
                hosted_account=reference.hosted_account,
                hosted_until=reference.hosted_until or timezone.now() + HOSTING_LIFETIME,
            )
    reference.refresh_from_db(fields=list(NOT_HOSTED))
    if cleared and replaced.hosted_account == tag:
        delete_replaced(replaced, deleter)


def keep(reference, hosted, deleter, tag, again):
    """Store the new upload on the reference, unless another upload of it at once was stored
    first: then ours goes and theirs is used."""
    until = parse_datetime(hosted.expires_at or "") or timezone.now() + HOSTING_LIFETIME
    fields = {
        "hosted_url": hosted.file_url,
        "hosted_until": until,
        "hosted_file_id": hosted.file_id,
        "hosted_account": tag,
    }
    as_read = Reference.objects.filter(
        pk=reference.pk, hosted_url=reference.hosted_url, hosted_file_id=reference.hosted_file_id
    )
    if as_read.update(**fields):
        for name, value in fields.items():
            setattr(reference, name, value)
        return hosted.file_url
    replaced = ReplacedHostedFile.objects.create(
        team_id=reference.team_id, file_id=hosted.file_id, hosted_account=tag, hosted_until=until
    )
    delete_replaced(replaced, deleter)
    reference.refresh_from_db(fields=list(NOT_HOSTED))
    if usable(reference, tag):
        return reference.hosted_url
    return again()  # what was stored first is of no use here: host it once more


# -- freeing -------------------------------------------------------------------------


def not_needed(references):
    """Those of `references` that no unfinished generation may still need."""
    images, masks = _needed()
    return references.exclude(pk__in=images).exclude(pk__in=masks)


def needed():
    """The references an unfinished generation may still need."""
    images, masks = _needed()
    return Reference.objects.filter(Q(pk__in=images) | Q(pk__in=masks))


def _needed():
    running = Generation.objects.filter(status__in=RUNNING)
    images = GenerationReference.objects.filter(generation__in=running).values("reference_id")
    return images, running.filter(mask__isnull=False).values("mask_id")


def deletable():
    """References with a hosted file that no unfinished generation needs."""
    return not_needed(Reference.objects.exclude(hosted_file_id=""))


def free_or_fail(client, deleter, tag, count):
    """Free at least one place: of the files the app knows, or else of the account's own list.
    HostingQuotaInUse when every file is needed by unfinished work, HostingQuotaFull when the
    files could not be told apart or deleted."""
    if free(deleter, tag, count):
        return
    freed, all_needed = free_unnamed(client, deleter, count)
    if freed:
        return
    if all_needed:
        raise errors.HostingQuotaInUse(code=errors.HostingQuotaInUse.CODE)
    raise errors.HostingQuotaFull(code=errors.HostingQuotaFull.CODE)


def free(deleter, tag, count):
    """Delete up to `count` (at least one) files of the account no unfinished generation needs,
    oldest first (a file still to delete before any live one); how many went."""
    count, freed = max(count, 1), 0
    for replaced in ReplacedHostedFile.objects.filter(hosted_account=tag).order_by("hosted_until", "pk")[
        :count
    ]:
        freed += delete_replaced(replaced, deleter)
    if freed >= count:
        return freed
    still_to_delete = Case(When(hosted_url="", then=0), default=1)
    candidates = deletable().filter(hosted_account=tag).order_by(still_to_delete, "hosted_until", "pk")
    for reference in candidates[: count * 2]:  # some may be taken by unfinished work meanwhile
        freed += release(reference, deleter)
        if freed >= count:
            break
    return freed


def free_unnamed(client, deleter, count):
    """Delete, oldest first, files on the account's own list that no unfinished generation
    needs: files hosted before ids were kept, orphans. The account is the team's (or the
    deployment's) own, so a file no reference names is nobody's. How many went, and whether
    every file listed is needed."""
    try:
        listed = list_account_files(client)
    except errors.EvoLinkError as error:
        log.info("hosted files not listed (%s)", error.code or type(error).__name__)
        return 0, False
    recent = timezone.now() - UNNAMED_GRACE  # perhaps uploaded by a submit not yet stored
    in_use = needed()
    needed_urls = set(in_use.values_list("hosted_url", flat=True))
    needed_files = set(in_use.values_list("hosted_file_id", flat=True))
    free_files = [
        hosted
        for hosted in listed
        if hosted.file_url not in needed_urls
        and hosted.file_id not in needed_files
        and uploaded_at(hosted, recent) < recent
    ]
    freed = 0
    for hosted in sorted(free_files, key=lambda hosted: uploaded_at(hosted, recent))[: max(count, 1)]:
        if delete_now(deleter, hosted.file_id):
            Reference.objects.filter(hosted_file_id=hosted.file_id).update(**NOT_HOSTED)
            Reference.objects.filter(hosted_url=hosted.file_url).update(hosted_url="")
            ReplacedHostedFile.objects.filter(file_id=hosted.file_id).delete()
            freed += 1
    return freed, bool(listed) and not free_files


def uploaded_at(hosted, unknown):
    """When a listed file was uploaded (else 72 hours before it expires; else `unknown`)."""
    uploaded = _moment(hosted.uploaded_at)
    if uploaded is None and (expires := _moment(hosted.expires_at)):
        uploaded = expires - HOSTING_LIFETIME
    return uploaded or unknown


def _moment(text):
    try:
        moment = parse_datetime(text or "")
    except ValueError:
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


def list_account_files(client):
    listed = []
    for page in range(1, LIST_PAGES + 1):
        files, total = client.list_files(page=page, page_size=LIST_PAGE_SIZE)
        listed += files
        if not files or len(listed) >= total:
            break
    return listed


def delete_now(deleter, file_id):
    """Delete one hosted file; True when it is gone (or was already)."""
    try:
        deleter.delete_file(file_id)
    except errors.NotFound:
        pass  # expired, or deleted already
    except errors.EvoLinkError as error:
        log.warning("hosted file %s not deleted, the sweep will try again: %s", file_id, error.code)
        return False
    return True


def delete_replaced(replaced, deleter):
    if not delete_now(deleter, replaced.file_id):
        return False
    replaced.delete()
    return True


def release(reference, deleter):
    """Delete the reference's hosted file unless an unfinished generation needs it. True when it went.

    The URL is cleared first, in one statement that checks the need, so that nothing starts
    using the file while it is deleted; the id is kept until the service confirms.
    """
    file_id = reference.hosted_file_id
    mine = Reference.objects.filter(pk=reference.pk, hosted_file_id=file_id).exclude(hosted_file_id="")
    if not not_needed(mine).update(hosted_url=""):
        return False
    reference.hosted_url = ""
    if not delete_now(deleter, file_id):
        return False
    mine.update(**NOT_HOSTED)
    reference.hosted_file_id = reference.hosted_account = ""
    return True


def release_finished(generation):
    """Delete the hosted files of a generation that has ended, those no unfinished work needs.
    Never raises: the generation has ended already, and what is left the sweep deletes."""
    try:
        references = Reference.objects.filter(pk__in=_references_of(generation)).exclude(hosted_file_id="")
        if references:
            _release_all(generation.team, list(references))
    except DatabaseError as error:  # a database locked or away for a moment
        log.warning("hosted files of %s left to the sweep: %s", generation.public_id, error)


def _references_of(generation):
    ids = list(generation.reference_links.values_list("reference_id", flat=True))
    return ids + [generation.mask_id] if generation.mask_id else ids


def _account_of(team):
    """The team's account, a client that deletes on it and its tag; None when there is none."""
    try:
        account = account_for(team)
        return deleting_client(account), account_tag(account)
    except errors.EvoLinkError:  # no account, or an unreadable key: the files will expire
        return None


def _release_all(team, references):
    found = _account_of(team)
    if found:
        deleter, tag = found
        for reference in references:
            if reference.hosted_account == tag:
                release(reference, deleter)


def sweep(batch=SWEEP_BATCH):
    """Delete the hosted files no unfinished generation needs (a release missed or failed, a
    copy replaced), and forget those past their 72 hours: the service has dropped them.

    Only what can be deleted now is picked, team by team on the team's current account, so
    files that cannot be (another account's, an unreadable key's) never crowd out the others."""
    now = timezone.now()
    Reference.objects.exclude(hosted_file_id="").filter(hosted_until__lt=now).update(**NOT_HOSTED)
    ReplacedHostedFile.objects.filter(hosted_until__lt=now).delete()
    teams = set(deletable().values_list("team_id", flat=True)) | set(
        ReplacedHostedFile.objects.values_list("team_id", flat=True)
    )
    left = batch
    for team in Team.objects.filter(pk__in=teams).order_by("pk"):
        found = _account_of(team)
        if not found or left <= 0:
            continue
        deleter, tag = found
        for replaced in ReplacedHostedFile.objects.filter(team=team, hosted_account=tag)[:left]:
            delete_replaced(replaced, deleter)
            left -= 1
        for reference in (
            deletable().filter(team=team, hosted_account=tag).order_by("hosted_until")[: max(left, 0)]
        ):
            release(reference, deleter)
            left -= 1
