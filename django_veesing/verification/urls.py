"""``path("verify/", include("django_veesing.verification.urls"))`` turns the endpoints on,
with their OpenAPI description at ``schema/`` (``pip install django-veesing[openapi]``)."""

from django.urls import path
from rest_framework.renderers import JSONOpenAPIRenderer
from rest_framework.schemas import get_schema_view

from .api import CheckView, StartView

app_name = "django_veesing_verification"

endpoints = [
    path("start/", StartView.as_view(), name="start"),
    path("check/", CheckView.as_view(), name="check"),
]

schema = get_schema_view(
    title="django-veesing verification codes",
    description="Ask for a verification code sent by SMS, and check it.",
    version="1",
    patterns=endpoints,
    renderer_classes=[JSONOpenAPIRenderer],
    authentication_classes=[],
    permission_classes=[],
)

urlpatterns = [*endpoints, path("schema/", schema, name="schema")]
