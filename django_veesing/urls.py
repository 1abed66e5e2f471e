"""URLs of the app: ``path("veesing/", include("django_veesing.urls"))``."""

from django.urls import URLPattern

app_name = "django_veesing"

urlpatterns: list[URLPattern] = []
