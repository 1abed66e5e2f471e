from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections
from django.utils.translation import gettext as _

from django_veesing.exceptions import CampaignStateError, ConfigurationError, ContentError
from django_veesing.imports.jobs import run_queued_imports
from django_veesing.models import Campaign, CampaignStatus
from django_veesing.sending.backlog import plan, resend_uncertain
from django_veesing.sending.message_sender import MessageReport, resume_account
from django_veesing.sending.sender import Sender, SendReport
from django_veesing.sending.workers import beat, stopping_on_signals


class Command(BaseCommand):
    help = (
        "Send every scheduled campaign that is due (or the campaigns named with --campaign, "
        "now), and the messages from code that are due. With --loop, keep running as a worker. "
        "Ctrl-C or SIGTERM stops it once the batch in flight is settled (a second one at once). "
        "Exits non-zero when a campaign failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--campaign", type=int, nargs="+", metavar="ID", help="approve and send these campaigns now"
        )
        parser.add_argument("--loop", action="store_true", help="keep running, looking for due work every --interval")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between looks in --loop (default 5)")
        parser.add_argument("--dry-run", action="store_true", help="show what would go out; change nothing")
        parser.add_argument(
            "--resend-uncertain",
            type=int,
            metavar="CAMPAIGN",
            help="resend the uncertain batches of this campaign: their numbers may receive the text twice",
        )
        parser.add_argument(
            "--resume-account",
            metavar="NAME",
            help="let an account the provider refused (balance, locked, credentials) send again",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["resume_account"]:
            name = options["resume_account"]
            if resume_account(name):
                self.stdout.write(_("Account %(account)s may send again.") % {"account": name})
            else:
                self.stdout.write(_("Account %(account)s was not stopped.") % {"account": name})
            return None
        campaigns = self._campaigns(options["campaign"] or [])
        if options["dry_run"]:
            return self._dry_run(campaigns or list(Campaign.objects.filter(status=CampaignStatus.SCHEDULED)))
        try:
            sender = Sender()
        except ConfigurationError as error:
            raise CommandError(str(error)) from None
        if options["resend_uncertain"]:
            (campaign,) = self._campaigns([options["resend_uncertain"]])
            numbers = resend_uncertain(campaign)
            self.stdout.write(_("%(numbers)d numbers of uncertain batches will be sent again.") % {"numbers": numbers})
            campaigns = [campaign]
        for campaign in campaigns:
            self._approve(campaign)
        with stopping_on_signals(sender.stop):
            if options["loop"]:
                return self._loop(sender, options["interval"])
            reports = self._send(sender, campaigns)
            failed = [r for r in reports if self._show(r)]
            if not campaigns:
                self._show_messages(sender.messages.send_due())
        if sender.stop.is_set():
            self.stdout.write(_("Stopped on request: what is left goes out on the next run."))
        if failed:
            raise CommandError(
                _("%(count)d campaign(s) failed: %(messages)s")
                % {"count": len(failed), "messages": "; ".join(r.message for r in failed)}
            )

    def _campaigns(self, ids: list[int]) -> list[Campaign]:
        found = {c.pk: c for c in Campaign.objects.filter(pk__in=ids)}
        missing = [str(pk) for pk in ids if pk not in found]
        if missing:
            raise CommandError(_("No campaign with id %(ids)s.") % {"ids": ", ".join(missing)})
        return [found[pk] for pk in ids]

    def _approve(self, campaign: Campaign) -> None:
        if campaign.status in (CampaignStatus.SCHEDULED, CampaignStatus.SENDING):
            return
        if campaign.status in (CampaignStatus.SENT, CampaignStatus.CANCELLED):
            self.stdout.write(
                _("Campaign %(id)s is already %(status)s: nothing to send.")
                % {"id": campaign.pk, "status": campaign.get_status_display()}
            )
            return
        try:
            campaign.schedule()
        except (CampaignStateError, ContentError) as error:
            raise CommandError(f"{campaign.pk} «{campaign.name}»: {error}") from None

    @staticmethod
    def _send(sender: Sender, campaigns: list[Campaign]) -> list[SendReport]:
        if not campaigns:
            return sender.send_due()
        return [sender.send(campaign) for campaign in campaigns if not sender.stop.is_set()]

    def _loop(self, sender: Sender, interval: float) -> None:
        self.stdout.write(
            _("Sending worker %(worker)s started; Ctrl-C stops it once the batch in flight is settled.")
            % {"worker": sender.worker}
        )
        try:
            while not sender.stop.is_set():
                try:
                    beat(sender.worker)
                    run_queued_imports()
                    for report in sender.send_due():
                        self._show(report)
                    self._show_messages(sender.messages.send_due())
                except DatabaseError as error:  # the database restarting must not end the worker
                    self.stderr.write(_("Database error, retrying: %(error)s") % {"error": error})
                    connections.close_all()  # a new connection next time, whatever state this one is in
                sender.stop.wait(interval)
        except KeyboardInterrupt:  # a second Ctrl-C: at once
            pass
        self.stdout.write(_("Worker stopped."))

    def _show(self, report: SendReport) -> bool:
        """Print one campaign's report; True when the campaign failed."""
        line = _(
            "Campaign %(id)s: %(status)s — %(batches)d batches, %(submitted)d submitted, "
            "%(failed)d failed, %(skipped)d skipped, %(uncertain)d uncertain batches"
        ) % {
            "id": report.campaign_id,
            "status": CampaignStatus(report.status).label if report.status else "?",
            "batches": report.batches,
            "submitted": report.submitted,
            "failed": report.failed,
            "skipped": report.skipped,
            "uncertain": report.uncertain,
        }
        if report.waiting:
            line += " — " + (
                _("waiting for quiet hours to end")
                if report.waiting == "quiet_hours"
                else _("waiting for its send time")
            )
        if report.message:
            line += f" — {report.message}"
        style = self.style.ERROR if report.campaign_failed else self.style.SUCCESS
        self.stdout.write(style(line))
        return report.campaign_failed

    def _show_messages(self, report: MessageReport) -> None:
        """One line for the messages from code, when there were any to send."""
        if not (report.batches or report.skipped or report.stopped_accounts or report.message):
            return
        line = _(
            "Messages: %(batches)d batches, %(submitted)d submitted, %(failed)d failed, "
            "%(skipped)d skipped, %(uncertain)d uncertain"
        ) % {
            "batches": report.batches,
            "submitted": report.submitted,
            "failed": report.failed,
            "skipped": report.skipped,
            "uncertain": report.uncertain,
        }
        if report.stopped_accounts:
            line += " — " + _("accounts stopped: %(accounts)s") % {"accounts": ", ".join(report.stopped_accounts)}
        if report.message:
            line += f" — {report.message}"
        trouble = report.stopped_accounts or report.uncertain or report.failed
        self.stdout.write((self.style.WARNING if trouble else self.style.SUCCESS)(line))

    def _dry_run(self, campaigns: list[Campaign]) -> None:
        if not campaigns:
            self.stdout.write(_("Nothing scheduled."))
        for campaign in campaigns:
            figures = plan(campaign)
            self.stdout.write(
                _(
                    "Campaign %(id)s «%(name)s»: %(numbers)d numbers in %(batches)d batches, "
                    "%(opted_out)d opted out, %(segments)d message(s) each, %(messages)d billed — not sent (dry run)"
                )
                % {"id": campaign.pk, "name": campaign.name, **figures}
            )
