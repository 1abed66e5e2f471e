"""The Chinese catalogue is complete and its compiled .mo matches the .po."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "django_veesing"
LANGUAGES = ["zh_Hans", "en"]


def catalogue(language: str) -> Path:
    return PACKAGE / "locale" / language / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_of_the_app_is_translated(tmp_path, language):
    copy = tmp_path / "django_veesing"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", language, "--no-obsolete"],
        cwd=copy,
        env={**os.environ, "PYTHONPATH": str(PACKAGE.parent)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    extracted = polib.pofile(str(copy / "locale" / language / "LC_MESSAGES" / "django.po"))
    untranslated = [e.msgid for e in extracted if not e.translated()]
    assert untranslated == [], f"run makemessages -l {language} in django_veesing/ and translate these"


def _texts(entries):
    return {e.msgid: e.msgstr or tuple(sorted(e.msgstr_plural.items())) for e in entries if e.msgid}


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_is_fresh(language):
    po = _texts(e for e in polib.pofile(str(catalogue(language))) if e.translated())
    mo = _texts(polib.mofile(str(catalogue(language).with_suffix(".mo"))))
    assert mo == po, "run compilemessages in django_veesing/"
