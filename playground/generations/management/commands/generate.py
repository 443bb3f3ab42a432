import json

from django.core.management.base import BaseCommand, CommandError

from playground.generations import lifecycle
from playground.generations.forms import GenerationForm
from playground.generations.tracker import run_until_finished
from playground.teams.models import Team


class Command(BaseCommand):
    help = "Generate images from a prompt, as the playground page does."

    def add_arguments(self, parser):
        parser.add_argument("prompt")
        parser.add_argument("--size", default="1:1")
        parser.add_argument("--n", type=int, default=1)
        parser.add_argument("--team", help="team slug (default: the only team)")
        parser.add_argument("--wait", action="store_true", help="wait and print the result as JSON")
        parser.add_argument("--timeout", type=float, default=600)

    def handle(self, *args, **options):
        team = self._team(options["team"])
        form = GenerationForm({"prompt": options["prompt"], "size": options["size"], "n": options["n"]})
        if not form.is_valid():
            raise CommandError(
                "; ".join(f"{field}: {' '.join(messages)}" for field, messages in form.errors.items())
            )
        generation = lifecycle.create(team, None, **form.cleaned_data)
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


def describe(generation):
    return {
        "id": str(generation.public_id),
        "status": generation.status,
        "prompt": generation.prompt,
        "size": generation.size,
        "n": generation.n,
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
    except NotImplementedError:  # remote storage has names, not paths
        return field_file.name
