"""The test settings, with an app whose signal receivers raise (``raising_receivers``)."""

from .settings import *  # noqa: F403
from .settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.raising_receivers.RaisingReceivers"]
