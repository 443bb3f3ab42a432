"""`manage.py batch "TEMPLATE" --csv FILE [--size S] [--n N] [--image PATH]… [--wait]`.

Checks the batch as its page does (preview.from_upload), prints the preview's totals, and
starts it (runs.start) only when nothing stands in the way; a refusal writes nothing: no
batch, no generation, no reference file, no reserved credit. With --wait it waits for
every row (see waiting.py) and prints each row's end as JSON.
"""

import json
from contextlib import ExitStack, nullcontext
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from playground.amounts import plain
from playground.batches import outcome, preview, runs, waiting
from playground.batches.models import Batch
from playground.batches.rows import Defaults
from playground.batches.templates import Template
from playground.evolink.contract import COUNTS
from playground.generations import credits, operations, references
from playground.generations.forms import ReferencesForm
from playground.generations.management.commands.generate import open_file
from playground.generations.models import SIZE_CHOICES, Reference, Status
from playground.teams.management.commands.token import member


class Command(BaseCommand):
    help = "Start a batch of generations from a template and a CSV/TSV file, as the batch page does."

    def add_arguments(self, parser):
        parser.add_argument("template", help="the prompt with {{variables}}, named by the file's first row")
        parser.add_argument("--csv", required=True, metavar="FILE", help="CSV or TSV file: a row per prompt")
        parser.add_argument("--user", required=True, help="the member who starts it (user name)")
        parser.add_argument("--team", help="team slug (default: the member's only team)")
        parser.add_argument("--name", help="the batch's name (default: the file's name)")
        parser.add_argument("--size", default="1:1", choices=[size for size, _label in SIZE_CHOICES])
        parser.add_argument("--n", type=int, default=1, choices=COUNTS, help="images per row")
        parser.add_argument(
            "--image", action="append", default=[], metavar="PATH", help="a reference image for every row (repeatable)"
        )
        parser.add_argument("--skip-problems", action="store_true", help="send the ready rows, leave out the others")
        parser.add_argument("--wait", action="store_true", help="wait for every row and print them as JSON")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds --wait waits at most")

    def handle(self, *args, **options):
        with translation.override(settings.LANGUAGE_CODE):
            self.run(**options)

    def run(self, template, csv, user, team, name, size, n, image, skip_problems, wait, timeout, **_options):
        # With --wait, stdout is the JSON document alone: the preview and the start go to stderr.
        self.say = self.stderr if wait else self.stdout
        refuse_undecodable(template=template, csv=csv, user=user, team=team, name=name, image=image)
        # The page's limits, before anything is read or built from the template.
        too_big = Template(template).limit_problems()
        if too_big:
            raise CommandError(too_big[0])
        membership = member(user, team)
        if not membership.can_generate:
            raise CommandError(
                _("%(user)s is a viewer in %(team)s: viewers cannot start batches.")
                % {"user": user, "team": membership.team.slug}
            )
        checked_images = self.checked_images(membership.team, image)
        name = (name or Path(csv).name).strip()[: Batch._meta.get_field("name").max_length]
        with open_file(csv) as data:
            batch = self.start(membership, template, data, Defaults(size=size, n=n), checked_images,
                               name=name, source_name=Path(csv).name, skip_problems=skip_problems)
        self.write(_("Started the batch “%(name)s”: %(url)s") % {"name": batch.name, "url": page_url(batch)})
        self.write(_("Batch id: %(id)s") % {"id": batch.public_id})
        if not wait:
            return
        if not waiting.until_finished(batch, timeout):
            raise CommandError(_("Timed out waiting for the batch's rows to finish."))
        rows = outcome.rows(batch)
        self.stdout.write(json.dumps({"batch": str(batch.public_id), "rows": rows}, indent=2, ensure_ascii=False))
        unfinished = [row for row in rows if row["status"] not in (Status.COMPLETED, outcome.SKIPPED)]
        if unfinished:
            raise CommandError(
                ngettext("%(count)d row did not complete.", "%(count)d rows did not complete.", len(unfinished))
                % {"count": len(unfinished)}
            )

    def checked_images(self, team, paths):
        """The --image files checked as Generate checks uploads; nothing is stored yet."""
        with ExitStack() as opened:
            files = MultiValueDict({"images": [opened.enter_context(open_file(path)) for path in paths]})
            form = ReferencesForm({}, files, team=team)
            if not form.is_valid():
                raise CommandError("--image: " + " ".join(" ".join(errors) for errors in form.errors.values()))
            return form.cleaned_data["images"]

    def start(self, membership, template, data, defaults, checked_images, **options):
        """Store the references, preview, and start; on a refusal everything written is undone."""
        team, user = membership.team, membership.user
        stored = []
        # The references must be stored for the rows to name them, and go again with a refusal:
        # one transaction holds them. Without any, the preview only reads, and holds no write
        # lock (SQLite's is the whole database's) while it checks every row.
        undoable = transaction.atomic() if checked_images else nullcontext()
        try:
            with undoable:
                for checked in checked_images:
                    stored.append(references.store(team, user, checked))
                defaults = Defaults(size=defaults.size, n=defaults.n, references=tuple(stored))
                previewed = preview.from_upload(team, template, data, defaults)
                self.print_preview(previewed, credits.budgets_left(team, user))
                refuse_problems(previewed, options["skip_problems"])
                return runs.start(membership, previewed, **options)
        except (runs.NotReady, credits.BudgetExceeded) as refused:
            forget_files(stored)
            raise CommandError(str(refused.message)) from None
        except BaseException:
            forget_files(stored)
            raise

    def write(self, line):
        self.say.write(line, style_func=str)  # plain, also on stderr

    def print_preview(self, previewed, budgets):
        write = self.write
        for problem in previewed.problems:
            write(_("Problem: %(message)s") % {"message": problem})
        for note in previewed.notes:
            write(_("Note: %(message)s") % {"message": note})
        write(_("Rows: %(count)d") % {"count": previewed.total})
        write(_("Ready: %(count)d") % {"count": len(previewed.ready_rows)})
        write(_("With problems: %(count)d") % {"count": len(previewed.rows_with_problems)})
        for row in previewed.rows_with_problems:
            for problem in row.problems:
                write("  " + problem_line(row, problem))
        write(_("Images: %(count)d") % {"count": previewed.images})
        write(_("Credits to reserve: %(amount)s") % {"amount": plain(previewed.credits)})
        labels = {"team": _("Team budget left: %(left)s of %(budget)s"),
                  "member": _("Your budget left: %(left)s of %(budget)s")}
        for whose, found in budgets.items():
            write(labels[whose] % {"left": plain(found["left"]), "budget": plain(found["budget"])})
        if not budgets:
            write(_("Budgets: none set"))


FILE_OPTIONS = ("csv", "image")


def refuse_undecodable(**arguments):
    """An argument that is not UTF-8 (Python keeps its bytes as surrogates) is refused by name:
    it could be neither stored nor printed."""
    for option, given in arguments.items():
        for text in given if isinstance(given, list) else [given]:
            try:
                (text or "").encode()
            except UnicodeEncodeError:
                name = "TEMPLATE" if option == "template" else "--" + option
                if option in FILE_OPTIONS:
                    message = _("%(option)s: the file's name is not UTF-8 text: rename the file.")
                else:
                    message = _("%(option)s is not UTF-8 text: write it in UTF-8.")
                raise CommandError(message % {"option": name}) from None


def problem_line(row, problem):
    if problem.column:
        return _("row %(number)d, column %(column)s: %(message)s") % {
            "number": row.number, "column": problem.column, "message": problem.message}
    return _("row %(number)d: %(message)s") % {"number": row.number, "message": problem.message}


def refuse_problems(previewed, skip_problems):
    """The page's refusals, in the command's words (runs.start says them for a page)."""
    if previewed.rows_with_problems and not skip_problems and not previewed.problems:
        count = len(previewed.rows_with_problems)
        raise runs.NotReady(
            ngettext(
                "%(count)d row has a problem: fix it in the file, or pass --skip-problems to send the other rows.",
                "%(count)d rows have problems: fix them in the file, or pass --skip-problems to send the other rows.",
                count,
            )
            % {"count": count}
        )


def forget_files(stored):
    """Delete the files of references this run stored whose rows were rolled back."""
    kept = set(Reference.objects.filter(pk__in=[reference.pk for reference in stored]).values_list("pk", flat=True))
    gone = [reference for reference in stored if reference.pk not in kept]
    operations.remove_files(name for reference in gone for name in (reference.file.name, reference.thumbnail.name))


def page_url(batch):
    """The batch's page: a full address on PUBLIC_BASE_URL when it is set, else its path."""
    path = reverse("studio:batch", args=[batch.public_id])
    return settings.PUBLIC_BASE_URL.rstrip("/") + path if settings.PUBLIC_BASE_URL else path
