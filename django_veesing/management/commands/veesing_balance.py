from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from django_veesing.exceptions import VeesingError
from django_veesing.provider.client import VeesingClient


class Command(BaseCommand):
    help = "Print an account's balance, in messages. With --warn-below N, exit 1 below N (for monitoring)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--warn-below", type=int, metavar="N", help="exit with status 1 when the balance is below N"
        )
        parser.add_argument(
            "--account", metavar="NAME", help="the account of VEESING['ACCOUNTS'] to ask (default: the default one)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with VeesingClient.from_settings(options["account"]) as client:
                balance = client.balance()
        except VeesingError as error:
            raise CommandError(_("Could not read the balance: %(error)s") % {"error": error}) from None
        self.stdout.write(str(balance))
        threshold = options["warn_below"]
        if threshold is not None and balance < threshold:
            raise CommandError(
                _("The balance (%(balance)d) is below %(threshold)d: top up the account.")
                % {"balance": balance, "threshold": threshold},
                returncode=1,
            )
