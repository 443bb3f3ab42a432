"""Team keys encrypted at rest, and the rotation of the encryption key."""

import io
import json
import os
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from playground.generations.models import Generation, Status
from playground.teams import encryption
from playground.teams.encryption import UnreadableSecret
from playground.teams.models import Team

from .conftest import make_generation

KEY = "sk-test-7d1e9a4c2b8f6e3d5a0c7b9e1f4a2d6c"


@pytest.fixture(autouse=True)
def key_file_in_tmp(settings, tmp_path):
    """Every test gets its own key file: the real one is never touched."""
    settings.DATA_DIR = tmp_path
    settings.ENCRYPTION_KEYS = []


@pytest.fixture
def keyed_team(team):
    team.set_api_key(KEY)
    team.save()
    return team


def stored(team):
    return Team.objects.values_list("api_key_encrypted", flat=True).get(pk=team.pk)


def file_keys():
    return encryption.key_file().read_text().split()


def rotate(*args):
    """(stdout, stderr) of the command."""
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_encryption_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_stored_column_never_holds_the_plain_key(keyed_team):
    assert KEY not in stored(keyed_team)
    assert KEY[8:20] not in stored(keyed_team)
    assert encryption.decrypt(stored(keyed_team)) == KEY
    assert keyed_team.api_key_last4 == KEY[-4:]


def test_the_key_file_is_made_on_first_use_readable_by_its_owner_only(keyed_team):
    assert len(file_keys()) == 1
    assert encryption.key_file().stat().st_mode & 0o777 == 0o600


def test_a_new_encryption_key_goes_first_and_the_stored_key_still_decrypts(keyed_team):
    before, old_token = file_keys(), stored(keyed_team)
    out, err = rotate("--new-key")

    keys = file_keys()
    assert len(keys) == 2 and keys[1:] == before
    assert stored(keyed_team) != old_token
    assert encryption.decrypt(stored(keyed_team)) == KEY
    # Encrypted with the new key: it alone reads it.
    assert Fernet(keys[0]).decrypt(stored(keyed_team).encode()).decode() == KEY
    assert "Re-encrypted 1 team key(s)" in out
    for secret in [KEY, *keys, *before]:
        assert secret not in out + err
    assert encryption.key_file().stat().st_mode & 0o777 == 0o600


def test_dropping_the_old_keys_keeps_every_value_readable(keyed_team, other_team):
    other_team.set_api_key("sk-other-team-5555")
    other_team.save()
    old = file_keys()
    out, _err = rotate("--new-key", "--drop-old")

    keys = file_keys()
    assert len(keys) == 1 and keys[0] not in old
    assert encryption.decrypt(stored(keyed_team)) == KEY
    assert encryption.decrypt(stored(other_team)) == "sk-other-team-5555"
    assert "Re-encrypted 2 team key(s)" in out and "Dropped 1 old encryption key(s)" in out
    assert not encryption.key_file().with_name("encryption_keys.bak").exists()  # no old key left behind


def test_a_value_under_a_removed_key_is_unreadable_and_the_error_names_no_key(keyed_team):
    old_key = file_keys()[0]
    token = stored(keyed_team)
    encryption.key_file().write_text(Fernet.generate_key().decode() + "\n")

    with pytest.raises(UnreadableSecret) as error:
        encryption.decrypt(token)
    text = str(error.value) + repr(error.value)
    assert "cannot be decrypted" in text
    for secret in (KEY, old_key, *file_keys(), token):
        assert secret not in text


def test_an_unreadable_value_is_reported_by_team_and_left_alone(keyed_team, other_team):
    other_team.set_api_key("sk-other-team-5555")
    other_team.save()
    encryption.key_file().write_text(Fernet.generate_key().decode() + "\n")
    other_team.set_api_key("sk-other-team-5555")  # encrypted again, under the new key
    other_team.save()
    token = stored(keyed_team)

    out, err = rotate()
    assert "Re-encrypted 1 team key(s)" in out
    assert "1 team key(s) could not be decrypted" in err and "acme" in err
    assert stored(keyed_team) == token
    assert KEY not in out + err


def test_with_encryption_keys_in_settings_rotation_moves_values_to_the_first_key(settings, team):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [old]
    team.set_api_key(KEY)
    team.save()

    settings.ENCRYPTION_KEYS = [new, old]
    out, _err = rotate()
    assert "Re-encrypted 1 team key(s)" in out
    settings.ENCRYPTION_KEYS = [new]
    assert encryption.decrypt(stored(team)) == KEY
    assert not encryption.key_file().exists()  # the settings' keys are used, no file is made


def test_with_encryption_keys_in_settings_new_key_is_refused_with_what_to_do(settings, team):
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    for option in ("--new-key", "--drop-old"):
        with pytest.raises(CommandError) as refused:
            rotate(option)
        assert "put the new key first in ENCRYPTION_KEYS" in str(refused.value)
        assert settings.ENCRYPTION_KEYS[0] not in str(refused.value)
    assert not encryption.key_file().exists()


def test_a_malformed_encryption_key_is_refused_without_echoing_it(settings):
    settings.ENCRYPTION_KEYS = ["not-a-fernet-key-but-a-secret-anyway"]
    with pytest.raises(Exception) as refused:
        encryption.encrypt("x")
    assert "not-a-fernet-key" not in str(refused.value)


# -- the key file, made once and replaced whole ---------------------------------------------


def test_processes_starting_at_once_share_one_key(monkeypatch):
    """Every process finds no key file; whoever makes it first wins, and the others use its key."""
    delays = iter([0.05, 0.3])  # the second one is still generating when the first has written
    real_generate = Fernet.generate_key

    def slow_generate():
        time.sleep(next(delays))
        return real_generate()

    monkeypatch.setattr(encryption.Fernet, "generate_key", staticmethod(slow_generate))
    start = threading.Barrier(2)

    def first_encryption(_):
        start.wait()
        return encryption.encrypt(KEY)

    with ThreadPoolExecutor(2) as pool:
        tokens = list(pool.map(first_encryption, range(2)))

    assert len(file_keys()) == 1
    for token in tokens:
        assert Fernet(file_keys()[0]).decrypt(token.encode()).decode() == KEY


def test_a_key_file_being_written_is_waited_for(settings):
    path = encryption.key_file()
    path.touch(mode=0o600)  # made by another process, which has not written its key yet
    key = Fernet.generate_key().decode()
    threading.Timer(0.2, lambda: path.write_text(key + "\n")).start()
    assert encryption.configured_keys() == [key]


def test_the_replaced_key_file_is_kept_as_a_backup_readable_by_its_owner_only(keyed_team):
    before = encryption.key_file().read_text()
    rotate("--new-key")
    backup = encryption.key_file().with_name("encryption_keys.bak")
    assert backup.read_text() == before
    assert backup.stat().st_mode & 0o777 == 0o600
    assert sorted(path.name for path in encryption.key_file().parent.iterdir()) == [
        "encryption_keys",
        "encryption_keys.bak",
    ]


def test_a_new_key_file_reaches_the_disk_before_it_replaces_the_old_one_and_so_does_the_rename(
    keyed_team, monkeypatch
):
    steps = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor):
        steps.append("fsync directory" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "fsync file")
        real_fsync(descriptor)

    def replace(source, target):
        steps.append(f"replace {Path(target).name}")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    rotate("--new-key")
    assert steps == [
        *("fsync file", "replace encryption_keys.bak", "fsync directory"),
        *("fsync file", "replace encryption_keys", "fsync directory"),
    ]


def test_a_failed_write_leaves_the_key_file_as_it_was(keyed_team, monkeypatch):
    before = encryption.key_file().read_text()

    def disk_full(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        rotate("--new-key")
    assert encryption.key_file().read_text() == before
    assert [path.name for path in encryption.key_file().parent.iterdir()] == ["encryption_keys"]


# -- what is rotated, and when the old keys may go ---------------------------------------------


def running_generation(team, account):
    return make_generation(
        team, status=Status.PROCESSING, account_encrypted=encryption.encrypt(json.dumps(account))
    )


def test_running_generations_accounts_are_re_encrypted_too(keyed_team):
    account = {"base_url": "https://api.evolink.ai", "files_base_url": "", "source": "team", "api_key": KEY}
    generation = running_generation(keyed_team, account)
    make_generation(keyed_team, status=Status.COMPLETED)  # nothing stored: nothing to rotate

    out, err = rotate("--new-key", "--drop-old")
    assert "Re-encrypted 1 team key(s) and 1 running generation account(s)" in out
    generation.refresh_from_db()
    assert json.loads(Fernet(file_keys()[0]).decrypt(generation.account_encrypted.encode())) == account
    assert KEY not in out + err


def test_old_keys_are_kept_while_a_stored_secret_needs_them(keyed_team, other_team):
    lost_key = Fernet.generate_key().decode()
    keyed_team.api_key_encrypted = Fernet(lost_key).encrypt(KEY.encode()).decode()
    keyed_team.save()
    generation = make_generation(
        other_team, status=Status.PROCESSING, account_encrypted=Fernet(lost_key).encrypt(b"{}").decode()
    )
    ok_team = Team.objects.create(name="Fine", slug="fine")
    ok_team.set_api_key("sk-fine-team-0001")
    ok_team.save()
    before = file_keys()

    with pytest.raises(CommandError) as refused:
        rotate("--new-key", "--drop-old")
    message = str(refused.value)
    assert "2 stored secret(s) cannot be decrypted with the newest key alone" in message
    assert "acme" in message and "rival" in message and "fine" not in message
    assert file_keys()[1:] == before  # the new key was added, no old key dropped
    assert generation.account_encrypted == Generation.objects.get(pk=generation.pk).account_encrypted
    for secret in (KEY, lost_key, *file_keys()):
        assert secret not in message
