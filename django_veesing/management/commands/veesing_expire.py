from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from django_veesing.conf import veesing_settings
from django_veesing.sending.settling import expire


class Command(BaseCommand):
    help = "Mark submitted numbers that got no receipt within --after hours (default 72) as expired."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--after", type=float, metavar="HOURS", help="hours without a receipt (default: EXPIRE_AFTER_HOURS, 72)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        hours = options["after"] if options["after"] is not None else veesing_settings.EXPIRE_AFTER_HOURS
        count = expire(hours)
        self.stdout.write(
            _("%(count)d numbers expired (no receipt after %(hours)s hours).") % {"count": count, "hours": hours}
        )
