"""The project as a user meets it: migrations, the example project, the app's URLs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_no_missing_migrations():
    call_command("makemigrations", "django_veesing", "--check", "--dry-run", verbosity=0)


def run_example(*args, env=None):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VEESING_", "DJANGO_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_example_project_check_without_veesing_environment_shows_warnings_by_id():
    result = run_example("check")
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "veesing.W001" in output
    assert "veesing.W002" in output


def test_example_project_check_is_clean_when_configured():
    env = {
        "VEESING_APP_ID": "abc",
        "VEESING_APP_KEY": "def",
        "VEESING_CALLBACK_TOKEN": "0123456789abcdef0123",
        "VEESING_API_URL": "http://127.0.0.1:8025",
    }
    result = run_example("check", env=env)
    assert result.returncode == 0, result.stderr
    assert "veesing." not in result.stdout + result.stderr


def test_example_project_refuses_plain_http_outside_debug():
    env = {"VEESING_API_URL": "http://vip.veesing.com", "DEBUG": "False"}
    result = run_example("check", "--deploy", env=env)
    assert result.returncode != 0
    assert "veesing.E004" in result.stderr


@pytest.mark.django_db
def test_the_demo_phone_login_reads_the_code_from_the_simulators_record(client, settings, tmp_path, monkeypatch):
    import re

    from django.contrib.auth.models import User

    from django_veesing.simulator import Simulator
    from example_project import views

    record = tmp_path / "sim.jsonl"
    monkeypatch.setattr(views, "RECORD", record)
    settings.ROOT_URLCONF = "example_project.urls"
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [ROOT / "example_project" / "templates"]}]
    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "django_veesing.verification.backends.PhoneCodeBackend",
    ]
    User.objects.create_user("13800138000")
    with Simulator(record_path=str(record)) as simulator:
        settings.VEESING = {
            **settings.VEESING,
            "API_URL": simulator.url,
            "USER_PHONE_FIELD": "username",
            "VERIFY_TEMPLATE_ID": "36",  # as make demo sets it: the simulator's template
        }
        page = client.post("/demo/login/", {"phone": "13800138000", "send": ""}).content.decode()
        code = re.search(r"您的验证码是(\d{6})", page).group(1)
        page = client.post("/demo/login/", {"phone": "13800138000", "code": code}).content.decode()
    assert "已登录：13800138000" in page
    assert client.get("/demo/login/").context["user"].username == "13800138000"
