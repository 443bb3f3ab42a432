"""Re-encrypt every stored secret with the newest encryption key.

The stored secrets are the teams' API keys and the account snapshots that running
generations keep (Generation.account_encrypted). With ENCRYPTION_KEYS set, the operator
puts the new key first in the setting and restarts every process with it, then runs
this, then removes the old keys. On the embedded default (a key file beside the
database) --new-key and --drop-old do those two steps in the file; the file before each
change is kept as encryption_keys.bak, except that --drop-old removes it.
"""

import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from playground.generations.models import Generation
from playground.teams import encryption
from playground.teams.models import Team

# (model, encrypted column, how to reach the team's slug from a row)
TEAM_KEYS = (Team, "api_key_encrypted", "slug")
GENERATION_ACCOUNTS = (Generation, "account_encrypted", "team__slug")
SECRETS = [TEAM_KEYS, GENERATION_ACCOUNTS]


class Command(BaseCommand):
    help = "Re-encrypt the teams' API keys and running generations' accounts with the newest key."

    def add_arguments(self, parser):
        parser.add_argument(
            "--new-key",
            action="store_true",
            help="key file only: make a new key, put it first, then re-encrypt",
        )
        parser.add_argument(
            "--drop-old",
            action="store_true",
            help="key file only: afterwards keep only the newest key, if it alone reads every stored secret",
        )

    def handle(self, *args, **options):
        if settings.ENCRYPTION_KEYS and (options["new_key"] or options["drop_old"]):
            raise CommandError(
                "ENCRYPTION_KEYS is set, so the keys live in the environment, not in a file: put the new key "
                "first in ENCRYPTION_KEYS and run this command again without --new-key; remove the old keys "
                "from ENCRYPTION_KEYS yourself afterwards."
            )
        if options["new_key"]:
            write_keys([Fernet.generate_key().decode(), *encryption.configured_keys()])
            self.stdout.write("Added a new encryption key to the key file.")
        teams, unreadable_teams = rotate_column(*TEAM_KEYS)
        generations, unreadable_generations = rotate_column(*GENERATION_ACCOUNTS)
        self.stdout.write(
            f"Re-encrypted {teams} team key(s) and {generations} running generation account(s) "
            "with the newest encryption key."
        )
        if unreadable_teams:
            self.stderr.write(
                f"{len(unreadable_teams)} team key(s) could not be decrypted with any configured encryption key "
                f"and were left as they were; their owners must enter them again. "
                f"Teams: {', '.join(unreadable_teams)}."
            )
        if unreadable_generations:
            self.stderr.write(
                f"{len(unreadable_generations)} running generation account(s) could not be decrypted with any "
                f"configured encryption key and were left as they were. "
                f"Teams: {', '.join(sorted(set(unreadable_generations)))}."
            )
        if options["drop_old"]:
            self.drop_old_keys()

    def drop_old_keys(self):
        keys = encryption.configured_keys()
        stuck = unreadable_with(keys[0])
        if stuck:
            raise CommandError(
                f"Kept every encryption key: {len(stuck)} stored secret(s) cannot be decrypted with the newest "
                f"key alone (teams: {', '.join(sorted(set(stuck)))}). Have those teams' owners enter their keys "
                "again, or wait for their running generations to end, then run this command again."
            )
        write_keys(keys[:1])
        # The backup still holds the old keys: dropping them means dropping it too.
        backup_file().unlink(missing_ok=True)
        self.stdout.write(f"Dropped {len(keys) - 1} old encryption key(s) from the key file and its backup.")


def rotate_column(model, column, slug_path):
    """(rows re-encrypted, team slugs of the rows no configured key can read)."""
    rotated, unreadable = 0, []
    rows = model.objects.exclude(**{column: ""}).order_by("pk").values_list("pk", column, slug_path)
    for pk, token, slug in rows.iterator():
        try:
            new_token = encryption.rotate(token)
        except encryption.UnreadableSecret:
            unreadable.append(slug)
            continue
        # Only if the row still holds what was read: a value written meanwhile is already under the newest key.
        rotated += model.objects.filter(pk=pk, **{column: token}).update(**{column: new_token})
    return rotated, unreadable


def unreadable_with(key):
    """Team slugs of every stored secret this key alone cannot decrypt, one per secret."""
    fernet = Fernet(key)
    stuck = []
    for model, column, slug_path in SECRETS:
        for token, slug in model.objects.exclude(**{column: ""}).values_list(column, slug_path).iterator():
            try:
                fernet.decrypt(token.encode())
            except InvalidToken:
                stuck.append(slug)
    return stuck


def backup_file():
    path = encryption.key_file()
    return path.with_name(path.name + ".bak")


def write_keys(keys):
    """Replace the key file, keeping the one it replaces as encryption_keys.bak."""
    path = encryption.key_file()
    if path.exists():
        write_atomically(backup_file(), path.read_text())
    write_atomically(path, "".join(f"{key}\n" for key in keys))


def write_atomically(path, text):
    """Replace `path` in one step, readable by its owner only: after a crash it holds the old text or the new."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)
