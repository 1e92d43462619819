"""Settle stalled payment attempts now (what beat does every PAYMENT_RECONCILE_SCAN_SECONDS)."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from processes.payment_reconciliation import reconcile_stalled_payments


class Command(BaseCommand):
    help = "Ask the gateway about payment attempts without an outcome and settle each one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=float,
            default=settings.PAYMENT_RECONCILE_AFTER_SECONDS,
            help="seconds without progress before an attempt is settled "
            "(default: PAYMENT_RECONCILE_AFTER_SECONDS)",
        )

    def handle(self, *args: object, **options: float) -> None:
        outcomes = reconcile_stalled_payments(timedelta(seconds=options["older_than"]))
        summary = ", ".join(f"{outcome} {count}" for outcome, count in sorted(outcomes.items()))
        self.stdout.write(
            f"reconciled {sum(outcomes.values())} payments" + (f": {summary}" if summary else "")
        )
