"""Background work: number imports, and the sending workers' heartbeats."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import clock
from .choices import ImportStatus

if TYPE_CHECKING:
    from .imported import InvalidEntry


class ImportJob(models.Model):
    """A file of numbers too large for one web request, imported by the worker."""

    campaign = models.ForeignKey(
        "django_veesing.Campaign", models.CASCADE, related_name="imports", verbose_name=_("campaign")
    )
    filename = models.CharField(_("file"), max_length=255)
    data = models.BinaryField(_("content"))
    status = models.CharField(_("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    processed = models.PositiveIntegerField(_("entries read"), default=0)
    added = models.PositiveIntegerField(_("added"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    invalid_count = models.PositiveIntegerField(_("invalid"), default=0)
    invalid = models.TextField(_("invalid entries"), blank=True, help_text=_("One CSV row “line,entry,reason” each."))
    message = models.TextField(
        _("message"), blank=True, help_text=_("Which column was read, or why the import failed.")
    )
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.filename

    @staticmethod
    def invalid_text(invalid: Iterable[InvalidEntry]) -> str:
        """``invalid`` as the ``invalid`` column stores it."""
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows((item.line or "", item.entry, item.reason) for item in invalid)
        return out.getvalue()

    def invalid_rows(self) -> Iterator[tuple[str, str, str]]:
        """(line, entry, reason) of each invalid entry kept; imports from before lines were
        kept stored “entry,reason” and give an empty line."""
        for line in self.invalid.splitlines():
            row = next(csv.reader([line]), [])
            if len(row) == 3:
                yield row[0], row[1], row[2]
            else:
                entry, _comma, reason = line.rpartition(",")
                yield "", entry, reason


class WorkerHeartbeat(models.Model):
    """Written by every sending worker on each pass, so the admin knows one is running."""

    name = models.CharField(_("worker"), max_length=200, unique=True)
    seen_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return self.name
