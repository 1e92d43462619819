"""Expire unpaid orders now (what the beat schedule does every ORDER_EXPIRY_SCAN_SECONDS)."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

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

    def handle(self, *args: object, **options: float) -> None:
        expired = expire_overdue_orders(timedelta(seconds=options["timeout"]))
        self.stdout.write(f"expired {expired} orders")
