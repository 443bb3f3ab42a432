import json
from contextlib import ExitStack
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.utils.datastructures import MultiValueDict

from playground.generations import credits, lifecycle
from playground.generations.forms import GenerationForm
from playground.generations.tracker import run_until_finished
from playground.teams.models import Team


class Command(BaseCommand):
    help = "Generate images from a prompt, as the playground page does."

    def add_arguments(self, parser):
        parser.add_argument("prompt")
        parser.add_argument("--size", default="1:1")
        parser.add_argument("--n", type=int, default=1)
        parser.add_argument(
            "--image", action="append", default=[], metavar="PATH", help="a reference image (repeatable, at most 5)"
        )
        parser.add_argument("--mask", metavar="PATH", help="a PNG mask for one reference: transparent = change")
        parser.add_argument(
            "--no-strict", action="store_true", help="store the service's image as it is, not composited"
        )
        parser.add_argument("--callback-url", default="")
        parser.add_argument("--team", help="team slug (default: the only team)")
        parser.add_argument("--wait", action="store_true", help="wait and print the result as JSON")
        parser.add_argument("--timeout", type=float, default=600)

    def handle(self, *args, **options):
        team = self._team(options["team"])
        data = {
            "prompt": options["prompt"],
            "size": options["size"],
            "n": options["n"],
            "strict_mask": not options["no_strict"],
            "callback_url": options["callback_url"],
        }
        with ExitStack() as opened:
            files = MultiValueDict()
            files.setlist("images", [opened.enter_context(open_file(path)) for path in options["image"]])
            if options["mask"]:
                files["mask"] = opened.enter_context(open_file(options["mask"]))
            form = GenerationForm(data, files, team=team)
            if not form.is_valid():
                raise CommandError(
                    "; ".join(f"{field}: {' '.join(messages)}" for field, messages in form.errors.items())
                )
            try:
                generation = lifecycle.create(team, None, **form.cleaned_data)
            except credits.BudgetExceeded as refused:
                raise CommandError(f"n: {refused.message}") from None
        if not options["wait"]:
            self.stdout.write(str(generation.public_id))
            return
        if not run_until_finished(generation, options["timeout"]):
            raise CommandError("Timed out waiting for the generation.")
        self.stdout.write(json.dumps(describe(generation), indent=2))
        if generation.status != "completed":
            raise CommandError(generation.error_message or generation.status)

    def _team(self, slug):
        teams = Team.objects.all()
        if slug:
            teams = teams.filter(slug=slug)
        if teams.count() != 1:
            raise CommandError("Name the team with --team SLUG." if not slug else f"No team {slug!r}.")
        return teams.get()


def open_file(path):
    try:
        return File(Path(path).open("rb"), name=Path(path).name)
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None


def describe(generation):
    return {
        "id": str(generation.public_id),
        "status": generation.status,
        "prompt": generation.prompt,
        "size": generation.size,
        "n": generation.n,
        "mode": generation.mode,
        "task_id": generation.task_id,
        "error": {"code": generation.error_code, "message": generation.error_message}
        if generation.error_message
        else None,
        "images": [
            {"path": _path(image.file), "width": image.width, "height": image.height, "bytes": image.bytes}
            for image in generation.images.all()
        ],
    }


def _path(field_file):
    try:
        return field_file.path
    except NotImplementedError:  # S3: the object's full address, prefix included
        storage = field_file.storage
        key = "/".join(part for part in (storage.location.strip("/"), field_file.name) if part)
        return f"s3://{storage.bucket_name}/{key}"
