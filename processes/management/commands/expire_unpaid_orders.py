"""Expire unpaid orders now (what the beat schedule does every ORDER_EXPIRY_SCAN_SECONDS)."""

import sys
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from adapters.progress import reporting
from processes.order_expiry import expire_overdue_orders


class Command(BaseCommand):
    help = "Cancel orders unpaid for longer than the payment timeout, releasing their stock."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--timeout",
            type=float,
            default=settings.ORDER_PAYMENT_TIMEOUT_SECONDS,
            help="seconds an order may stay unpaid (default: ORDER_PAYMENT_TIMEOUT_SECONDS)",
        )

    def handle(self, *args: object, **options: Any) -> None:
        stream = options.get("stdout") or sys.stdout  # raw: a bar is redrawn in place
        with reporting(stream, unit="orders", description="expire") as progress:
            expired = expire_overdue_orders(
                timedelta(seconds=options["timeout"]), progress=progress
            )
        self.stdout.write(f"expired {expired} orders")
