from __future__ import annotations

import os

import pytest
from django.db import connections

from .helpers import CHROMIUM

# Playwright's sync API runs an event loop in this thread; the ORM calls made here are
# ordinary synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield browser
        # While Playwright's event loop runs, Django keeps this thread's connections in a
        # separate context; close them here, or the test database cannot be dropped.
        connections.close_all()
        browser.close()
