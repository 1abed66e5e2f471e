"""Verification codes under concurrent processes on PostgreSQL: starts at the same
instant for one number send one code; checks at the same instant with the right code
pass once; the site's minute cap holds across processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
from django.db import connection

from django_veesing.models import VerificationCode

from .conftest import database_url
from .test_workers import ROOT

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL's locks"),
]

PHONE = "13800138000"

RUNNER = """
import sys, time
import django
django.setup()
from django_veesing import verification
from django_veesing.exceptions import TooManyCodes
action, phone, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
time.sleep(max(0.0, start - time.time()))
if action == "start":
    try:
        verification.start(phone)
        print("sent")
    except TooManyCodes as error:
        print(error.limit)
else:
    print(verification.check(phone, sys.argv[4]))
"""


def run_all(simulator, calls):
    """Run each (action, phone, *rest) in a process of its own, all at one instant."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "VEESING_API_URL": simulator.url,
        "VEESING_SIGNATURE": "【维信测试】",  # codes go by group send here: signed
    }
    start = time.time() + 3  # every process set up and waiting by then
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", RUNNER, action, phone, str(start), *rest],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for action, phone, *rest in calls
    ]
    answers = [process.communicate(timeout=60)[0].strip() for process in processes]
    assert all(process.returncode == 0 for process in processes), answers
    return answers


def test_starts_at_one_instant_send_one_code_and_checks_pass_once(simulator):
    answers = run_all(simulator, [("start", PHONE)] * 5)
    assert sorted(answers) == ["number_minute"] * 4 + ["sent"]
    assert VerificationCode.objects.count() == 1 and simulator.record.accepted[PHONE] == 1
    (call,) = simulator.record.group_requests()
    code = re.search(r"\d{6}", call.fields["content"]).group()
    assert sorted(run_all(simulator, [("check", PHONE, code)] * 4)) == ["False"] * 3 + ["True"]


def test_the_site_minute_cap_holds_across_processes(simulator, settings):
    os.environ["VEESING_CODE_SITE_MINUTE_LIMIT"] = "3"
    try:
        answers = run_all(simulator, [("start", f"1380013800{n}") for n in range(6)])
    finally:
        del os.environ["VEESING_CODE_SITE_MINUTE_LIMIT"]
    assert sorted(answers) == ["sent"] * 3 + ["site_minute"] * 3
