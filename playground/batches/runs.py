"""Starting a checked batch, and what its page does to it: progress, retry, cancel.

Each ready row becomes a generation in the team's batch lane (see generations/queue.py),
made by `lifecycle.create` like a Generate click, so the reservation, the running totals
and the line are the same. A batch starts whole or not at all: one transaction checks the
budgets for all its rows under the team's lock and reserves each row's credits. A page's
preview starts at most one batch: the batch keeps its token's nonce, unique in the team.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from playground.generations import cancelling, credits, lifecycle, operations, queue
from playground.generations.models import Lane, Status

from .models import Batch, BatchRow

REFUSALS = {
    "team": _(
        "This batch needs %(amount)s credits, but the team's monthly budget has %(left)s of %(budget)s "
        "credits left. Send fewer rows or images, or ask an owner to raise the budget."
    ),
    "member": _(
        "This batch needs %(amount)s credits, but your monthly budget has %(left)s of %(budget)s credits "
        "left. Send fewer rows or images, or ask an owner to raise your budget."
    ),
}
RETRYABLE = (Status.FAILED, Status.EXPIRED)
ALREADY_STARTED = _("This batch was already started.")


class NotReady(Exception):
    """The batch cannot start as it is: the sentence says why."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class AlreadyStarted(Exception):
    """The preview this start comes from has started a batch already: `batch`."""

    message = ALREADY_STARTED

    def __init__(self, batch):
        super().__init__(ALREADY_STARTED)
        self.batch = batch


def start(membership, previewed, *, name, source_name="", skip_problems=False, preview_nonce=""):
    """Store the batch and send its ready rows to the team's line; NotReady or
    credits.BudgetExceeded (with the numbers) leave nothing behind.

    `previewed` is a `preview.Batch`. Rows with problems stop it unless `skip_problems`:
    then they are kept, not sent, with their problems as the reason. `preview_nonce` is the
    redeemed preview token's (see preview_tokens.py): when a batch was already started with
    it, AlreadyStarted names that batch and nothing else happens.
    """
    if previewed.problems:
        raise NotReady(previewed.problems[0])
    if not previewed.ready_rows:
        raise NotReady(_("No row is ready to send."))
    if previewed.rows_with_problems and not skip_problems:
        raise NotReady(_("Fix the rows with problems, or choose to skip them."))
    team, user = membership.team, membership.user
    try:
        with transaction.atomic():
            queue.locked(team)
            refuse_a_second_start(team, preview_nonce)
            credits.require_covered(team, user, previewed.credits, refusals=REFUSALS)
            batch = Batch.objects.create(
                team=team,
                created_by=user,
                name=name,
                template=previewed.template.text,
                size=previewed.defaults.size,
                n=previewed.defaults.n,
                source_name=source_name,
                preview_nonce=preview_nonce,
            )
            store_rows(batch, user, previewed.rows)
    except IntegrityError:
        refuse_a_second_start(team, preview_nonce)  # the same preview, started at the same moment elsewhere
        raise
    return batch


def store_rows(batch, user, rows):
    """Each row kept; the ready ones sent, the others with their problems as the reason."""
    for row in rows:
        kept = BatchRow(batch=batch, number=row.number, values=row.values, prompt=row.prompt)
        if row.ready:
            kept.generation = send(batch, user, row.prompt, row.size, row.n, row.references)
        else:
            kept.skipped = " ".join(str(problem.message) for problem in row.problems)
        kept.save()


def refuse_a_second_start(team, preview_nonce):
    started = Batch.objects.filter(team=team, preview_nonce=preview_nonce).first() if preview_nonce else None
    if started:
        raise AlreadyStarted(started)


def send(batch, user, prompt, size, n, references):
    return lifecycle.create(
        batch.team,
        user,
        prompt=prompt,
        size=size,
        n=n,
        references=references,
        lane=Lane.BATCH,
        batch=batch,
        covered=True,  # checked for the whole batch, under the team's lock, in this transaction
    )


def retry_failed(membership, batch):
    """Send the rows whose last attempt failed or expired again, as new generations; how many.

    The budgets must cover them all (credits.BudgetExceeded otherwise, and nothing is sent).
    """
    require_may_change(membership, batch)
    team = membership.team  # the batch's (require_may_change), read before the transaction takes the lock
    with transaction.atomic():
        # Under the team's lock: a second retry at once (a double click) finds these rows sent already.
        queue.locked(team)
        rows = list(batch.rows.filter(generation__status__in=RETRYABLE).select_related("generation"))
        amount = sum(credits.estimate(row.generation.n) for row in rows)
        credits.require_covered(team, membership.user, amount, refusals=REFUSALS)
        for row in rows:
            failed = row.generation
            row.generation = send(
                batch, membership.user, failed.prompt, failed.size, failed.n, failed.ordered_references()
            )
            row.save(update_fields=["generation"])
    return len(rows)


def cancel_waiting(membership, batch):
    """Cancel the batch's rows still waiting in the line: nothing of them is sent or charged,
    and their reservations are released at once. How many were cancelled."""
    require_may_change(membership, batch)
    waiting = batch.generations.filter(status=Status.WAITING).order_by("pk").values_list("pk", flat=True)
    return len(cancelling.cancel_in_line(batch.team, list(waiting)))


def may_change(membership, batch):
    """Owners and admins, and the member who started it while they may generate: the rule
    for a generation (operations.may_delete), applied to the batch's maker."""
    return operations.may_delete(membership, batch)


def require_may_change(membership, batch):
    if batch.team_id != membership.team_id or not may_change(membership, batch):
        raise PermissionDenied


@dataclass
class Progress:
    """Where a batch's sent rows stand: each counted by its last attempt."""

    total: int = 0
    done: int = 0
    failed: int = 0  # failed or expired upstream; retryable
    cancelled: int = 0
    waiting: int = 0  # in the team's line, or on their way upstream
    skipped: int = 0  # left out when it started

    @property
    def finished(self):
        return self.waiting == 0

    def add(self, status, count):
        self.total += count
        if status == Status.COMPLETED:
            self.done += count
        elif status in RETRYABLE or status is None:  # None: its generation is gone with its team's data
            self.failed += count
        elif status == Status.CANCELLED:
            self.cancelled += count
        else:
            self.waiting += count

    def count(self, group):
        """Add a group of `counted`."""
        self.add(group["generation__status"], group["sent"])
        self.skipped += group["skipped"]


def progress(batches):
    """Each batch's Progress, by batch pk, from one grouped query."""
    found = {batch.pk: Progress() for batch in batches}
    for group in counted(BatchRow.objects.filter(batch__in=list(found))):
        found[group["batch"]].count(group)
    return found


def counted(rows, *keys):
    """`rows` (BatchRows) grouped by batch, `keys` and their last attempt's status: how many
    were sent (`sent`) and left out (`skipped`) in each group; one query."""
    return (
        rows.values("batch", *keys, "generation__status")
        .annotate(sent=Count("pk", filter=Q(skipped="")), skipped=Count("pk", filter=~Q(skipped="")))
        .order_by()
    )
