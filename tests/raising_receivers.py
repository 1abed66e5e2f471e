"""An app whose receivers of every django-veesing signal raise: a bug in a project's
receiver, for the tests that check it cannot stop a worker."""

from django.apps import AppConfig


def broken(**kwargs):
    raise RuntimeError("a receiver's own bug")


class RaisingReceivers(AppConfig):
    name = "tests.raising_receivers"
    label = "raising_receivers"

    def ready(self):
        from django_veesing import signals

        for signal in (signals.campaign_started, signals.batch_submitted, signals.campaign_finished):
            signal.connect(broken, weak=False)
