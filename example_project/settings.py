"""Settings of the example project, read from the environment with django-environ.

Every value has a development default, so ``python manage.py runserver`` works from a
fresh clone; set the ``VEESING_*`` variables to talk to a real account.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DEBUG=(bool, True),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    LANGUAGE_CODE=(str, "zh-hans"),
    TIME_ZONE=(str, "Asia/Shanghai"),
)
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env("DEBUG")
SECRET_KEY = env("SECRET_KEY", default="django-insecure-example-project-only-never-in-production")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")

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
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "example_project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Persistent connections: opening a database connection per request costs the callback
# view about 4x its throughput (see docs on deployment).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The web server and the sending worker write at once: take SQLite's write lock at
    # BEGIN rather than fail to upgrade a read lock midway ("database is locked").
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}

LANGUAGE_CODE = env("LANGUAGE_CODE")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = env("TIME_ZONE")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

# Only the keys whose environment variable is set: with none, `manage.py check` shows
# the app's warnings (veesing.W001, veesing.W002) instead of failing.
VEESING = {
    key: env(f"VEESING_{key}")
    for key in ("APP_ID", "APP_KEY", "API_URL", "CALLBACK_TOKEN", "VERIFY_TEMPLATE_ID")
    if env(f"VEESING_{key}", default="")
}

# The demo's phone login (/demo/login/): a user whose username is a mobile number logs in
# with a verification code.
VEESING["USER_PHONE_FIELD"] = "username"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "django_veesing.verification.backends.PhoneCodeBackend",
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_veesing": {"handlers": ["console"], "level": env("VEESING_LOG_LEVEL", default="INFO")}},
}
