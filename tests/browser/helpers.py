"""What the browser tests share: where Chromium and the screenshots are, and logging in."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="needs Debian's Chromium: apt-get install chromium"
)


def log_in(browser, live_server, username: str, language: str = "zh-hans"):
    """A new page of a new browser context in ``language``, logged into the admin (the
    tests' users have the password "secret-pw")."""
    context = browser.new_context(
        locale="zh-CN" if language == "zh-hans" else "en-US",
        accept_downloads=True,
        viewport={"width": 1100, "height": 800},
    )
    context.set_extra_http_headers({"Accept-Language": "zh-Hans" if language == "zh-hans" else "en"})
    page = context.new_page()
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "secret-pw")
    page.click("input[type=submit]")
    return page


def log_in_as(browser, live_server, role: str):
    """A page logged in as a new user of ``role``: "sender" (a superuser, "boss") or
    "viewer" (staff who may only view campaigns)."""
    from django.contrib.auth.models import Permission, User

    if role == "sender":
        User.objects.create_superuser("boss", password="secret-pw")
        return log_in(browser, live_server, "boss")
    viewer = User.objects.create_user("viewer", password="secret-pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    return log_in(browser, live_server, "viewer")


def counter_for(page, text: str):
    """The live counter once it shows the server's answer for ``text`` in the content field."""
    page.fill("#id_content", text)
    page.wait_for_function(
        "t => { const c = document.getElementById('veesing-counter'); return c && c.dataset.text === t; }", arg=text
    )
    return page.locator("#veesing-counter")
