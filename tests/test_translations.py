"""The Korean and Chinese catalogues hold every string the app marks for translation, and
the compiled catalogues the app loads say what the .po files say."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ["ko", "zh_Hans"]


def catalogue(root, language, suffix="po"):
    return root / "playground" / "locale" / language / "LC_MESSAGES" / f"django.{suffix}"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The catalogues as `makemessages` leaves them when run over a copy of the tree now."""
    copy = tmp_path_factory.mktemp("tree")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("playground", "templates", "static"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    shutil.copy(ROOT / "manage.py", copy)
    languages = [argument for language in LANGUAGES for argument in ("-l", language)]
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", *languages, "--no-obsolete", "--no-location"],
        cwd=copy,
        env={"PATH": "/usr/bin:/bin", "PLAYGROUND_DATA_DIR": str(copy / "var"), "PYTHONPATH": str(copy)},
        check=True,
        capture_output=True,
    )
    return copy


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_marked_string_has_a_translation(extracted, language):
    po = polib.pofile(str(catalogue(extracted, language)))
    missing = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert not missing, f"{language}: not translated: {missing}"
    assert not fuzzy, f"{language}: marked fuzzy (a guess by msgmerge): {fuzzy}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_is_up_to_date(language):
    """What the app loads (.mo) is what the .po says: compilemessages was run after the last edit."""

    def translations(entries):
        return {(entry.msgctxt, entry.msgid): (entry.msgstr, entry.msgstr_plural) for entry in entries if entry.msgid}

    po = polib.pofile(str(catalogue(ROOT, language)))
    mo = polib.mofile(str(catalogue(ROOT, language, "mo")))
    written = translations(entry for entry in po.translated_entries() if not entry.obsolete)
    assert translations(mo) == written
