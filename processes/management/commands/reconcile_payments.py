"""Settle stalled payment attempts now (what beat does every PAYMENT_RECONCILE_SCAN_SECONDS)."""

import sys
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from adapters.progress import reporting
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

    def handle(self, *args: object, **options: Any) -> None:
        stream = options.get("stdout") or sys.stdout  # raw: a bar is redrawn in place
        with reporting(stream, unit="payments", description="reconcile") as progress:
            outcomes = reconcile_stalled_payments(
                timedelta(seconds=options["older_than"]), progress=progress
            )
        summary = ", ".join(f"{outcome} {count}" for outcome, count in sorted(outcomes.items()))
        self.stdout.write(
            f"reconciled {sum(outcomes.values())} payments" + (f": {summary}" if summary else "")
        )
