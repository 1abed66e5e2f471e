"""A minimal site for the callback benchmark: the app's callback and a bare view, under
gunicorn, on PostgreSQL with persistent connections (DATABASE_URL)."""

import datetime as dt
import os
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import environ
from django.conf import settings

if not settings.configured:
    database = environ.Env().db("DATABASE_URL")
    database["CONN_MAX_AGE"] = 600
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        USE_TZ=True,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework", "django_veesing"],
        MIDDLEWARE=[],
        DATABASES={"default": database},
        VEESING={"APP_ID": "bench", "APP_KEY": "bench-key", "CALLBACK_TOKEN": os.environ["BENCH_TOKEN"]},
        LOGGING_CONFIG=None,
    )

import django

django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402


def bare(request):
    return HttpResponse("ok", content_type="text/plain")


def one_write(request):
    """The least a durable view can do: one single-row UPDATE, committed, per request."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE django_veesing_campaign SET last_message = last_message WHERE id = %s", [WRITTEN_ID])
    return HttpResponse("ok", content_type="text/plain")


@csrf_exempt
def straightforward(request):
    """The plain way to take a receipt: one indexed SELECT, one UPDATE and one INSERT, in a
    transaction; no counts, no checks."""
    from django_veesing.models import Receipt, Recipient

    data = request.POST
    at = dt.datetime.strptime(data["receivetime"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    with transaction.atomic():
        # The batch named by the task id gives the campaign; the campaign and the phone
        # give the row (one SELECT joining the two, on their indexes).
        recipient = Recipient.objects.select_for_update(of=("self",)).get(
            campaign__batches__task_id=data["taskid"], phone=data["mobile"]
        )
        Recipient.objects.filter(pk=recipient.pk).update(status="delivered", receipt_code=data["code"], receipt_at=at)
        Receipt.objects.create(
            fingerprint=uuid.uuid4().hex,
            task_id=data["taskid"],
            phone=data["mobile"],
            delivered=data["status"] == "1",
            code=data["code"],
            received_at=at,
            recipient=recipient,
            raw=dict(data.items()),
        )
    return HttpResponse("ok", content_type="text/plain")


WRITTEN_ID = os.environ.get("BENCH_CAMPAIGN", "0")

urlpatterns = [
    path("bare/", bare),
    path("one-write/", one_write),
    path("straightforward/", straightforward),
    path("veesing/", include("django_veesing.urls")),
]
application = get_wsgi_application()
