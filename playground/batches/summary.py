"""A batch's progress as people read it: "37 of 120 done · 2 failed · 81 waiting"."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from playground.generations.models import SIZE_CHOICES


def progress_line(progress):
    """The line for a `runs.Progress`; cancelled and skipped rows are named only when there are any."""
    parts = [
        _("%(done)d of %(total)d done") % {"done": progress.done, "total": progress.total},
        ngettext("%(count)d failed", "%(count)d failed", progress.failed) % {"count": progress.failed},
        ngettext("%(count)d waiting", "%(count)d waiting", progress.waiting) % {"count": progress.waiting},
    ]
    if progress.cancelled:
        parts.append(ngettext("%(count)d cancelled", "%(count)d cancelled", progress.cancelled) % {"count": progress.cancelled})
    if progress.skipped:
        parts.append(ngettext("%(count)d skipped", "%(count)d skipped", progress.skipped) % {"count": progress.skipped})
    return " · ".join(parts)


def finished_share(progress):
    """How much of the batch has finished, done or not, in percent (for its progress bar)."""
    if not progress.total:
        return 100
    return round(100 * (progress.total - progress.waiting) / progress.total)


def size_label(size):
    """The batch's size as Generate's choices name it ("2:3 portrait"), else as stored."""
    return dict(SIZE_CHOICES).get(size, size)
