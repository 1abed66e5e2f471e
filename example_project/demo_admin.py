"""Create (or reset) the demo's admin login and print it. For `make demo` only."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

USERNAME = os.environ.get("DEMO_ADMIN_USER", "admin")
PASSWORD = os.environ.get("DEMO_ADMIN_PASSWORD", "veesing-demo")

user, _created = get_user_model().objects.get_or_create(username=USERNAME)
user.is_staff = user.is_superuser = True
user.set_password(PASSWORD)
user.save()
print(f"Admin login for the demo: user {USERNAME!r}, password {PASSWORD!r}")

PHONE_USER = os.environ.get("DEMO_PHONE_USER", "13800138000")
get_user_model().objects.get_or_create(username=PHONE_USER)
print(f"Phone login for the demo: /demo/login/ as {PHONE_USER} (the code is read from the simulator's record)")
