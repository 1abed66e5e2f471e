"""The Chinese catalogue is complete and its compiled .mo matches the .po."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib

PACKAGE = Path(__file__).resolve().parent.parent / "django_veesing"
PO = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def test_every_string_of_the_app_is_translated(tmp_path):
    copy = tmp_path / "django_veesing"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=copy,
        env={**os.environ, "PYTHONPATH": str(PACKAGE.parent)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    extracted = polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    untranslated = [e.msgid for e in extracted if not e.translated()]
    assert untranslated == [], "run makemessages -l zh_Hans in django_veesing/ and translate these"


def _texts(entries):
    return {e.msgid: e.msgstr or tuple(sorted(e.msgstr_plural.items())) for e in entries if e.msgid}


def test_compiled_catalogue_is_fresh():
    po = _texts(e for e in polib.pofile(str(PO)) if e.translated())
    mo = _texts(polib.mofile(str(MO)))
    assert mo == po, "run compilemessages in django_veesing/"
