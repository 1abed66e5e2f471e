"""The Celery app the Celery tests start a real worker with (broker: the machine's Redis)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

app = Celery("tests")
app.conf.broker_url = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
app.conf.task_default_queue = os.environ.get("CELERY_QUEUE", "veesing-tests")
app.conf.worker_hijack_root_logger = False
app.autodiscover_tasks(["django_veesing"])
