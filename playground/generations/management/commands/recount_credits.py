"""`manage.py recount_credits [--team SLUG] [--repair]`: compare each team's running credit
totals with its generations, and with --repair write them again from the rows (after a bulk
import, or after TIME_ZONE changed, which moves the local days the totals are kept by)."""

from django.core.management.base import BaseCommand, CommandError

from playground.generations import totals
from playground.teams.models import Team


class Command(BaseCommand):
    help = "Compare the running credit totals with the generations; --repair writes them again from the rows."

    def add_arguments(self, parser):
        parser.add_argument("--team", help="team slug (default: every team)")
        parser.add_argument("--repair", action="store_true", help="write the totals of teams that differ again")

    def handle(self, *args, **options):
        teams = Team.objects.order_by("slug")
        if options["team"]:
            teams = teams.filter(slug=options["team"])
            if not teams.exists():
                raise CommandError(f"No team has the slug {options['team']!r}.")
        for team in teams:
            differences = totals.recount(team)
            if not differences:
                self.stdout.write(f"{team.slug}: the totals agree with the generations.")
                continue
            self.stdout.write(f"{team.slug}: {len(differences)} totals differ from the generations:")
            for key, (kept, counted) in sorted(differences.items(), key=lambda item: str(item[0].day)):
                self.stdout.write(f"  {key.day} member {key.user_id} token {key.token_id}: kept {kept}, rows {counted}")
            if options["repair"]:
                totals.rebuild(team)
                self.stdout.write(f"{team.slug}: written again from the generations.")
