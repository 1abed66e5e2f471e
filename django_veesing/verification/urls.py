"""``path("verify/", include("django_veesing.verification.urls"))`` turns the endpoints on."""

from django.urls import path

from .api import CheckView, StartView

app_name = "django_veesing_verification"

urlpatterns = [
    path("start/", StartView.as_view(), name="start"),
    path("check/", CheckView.as_view(), name="check"),
]
