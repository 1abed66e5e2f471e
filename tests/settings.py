"""Minimal settings for the test suite; the database comes from DATABASE_URL (SQLite when unset)."""

import os
import tempfile

import environ

from tests.shifted_time import start_from_environment

start_from_environment()  # CI's shifted passes: VEESING_TEST_TIME_SHIFT=+730d, or "china 23:00"

SECRET_KEY = "tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "Europe/Paris"  # deliberately not China: the app must convert itself
LANGUAGE_CODE = "en"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_veesing",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
# SQLite (when DATABASE_URL is unset) lives in files, not memory: worker processes that a
# test starts must see the same data, and the live server must not share the test
# thread's connection (which Django does for in-memory SQLite, unsafely under load).
_sqlite = os.path.join(tempfile.gettempdir(), f"django_veesing_{os.getpid()}")
DATABASES = {"default": environ.Env().db("DATABASE_URL", default=f"sqlite:///{_sqlite}.sqlite3")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["TEST"] = {"NAME": f"{_sqlite}_test.sqlite3"}
STATIC_URL = "static/"

VEESING = {
    "APP_ID": "test-app-id",
    "APP_KEY": "test-app-key-S3CRET-zz9",
    "API_URL": os.environ.get("VEESING_API_URL", "http://127.0.0.1:9"),
    "BATCH_SIZE": int(os.environ.get("VEESING_BATCH_SIZE", "1000")),
    "TIMEOUT": float(os.environ.get("VEESING_TIMEOUT", "10")),
    "CALLBACK_TOKEN": "test-callback-token-0123456789",
    "CODE_SITE_MINUTE_LIMIT": int(os.environ.get("VEESING_CODE_SITE_MINUTE_LIMIT", "60")),
    "SIGNATURE": os.environ.get("VEESING_SIGNATURE", ""),
}
