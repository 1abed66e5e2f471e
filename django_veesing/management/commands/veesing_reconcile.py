from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from django_veesing.sending.reconcile import reconcile


class Command(BaseCommand):
    help = (
        "Link receipts that arrived before their batch's task id was stored, and settle "
        "uncertain batches whose receipts show that the provider did send them."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = reconcile()
        self.stdout.write(
            _("%(linked)d receipts linked; %(batches)d uncertain batches found sent.")
            % {"linked": report.linked, "batches": report.batches_found}
        )
