from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VeesingConfig(AppConfig):
    name = "django_veesing"
    verbose_name = _("Veesing SMS")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
