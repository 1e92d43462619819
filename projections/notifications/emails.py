"""What each notification says (plain text, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Email:
    subject: str
    body: str


def order_email(kind: str, order_id: str, total: str | None) -> Email:
    if kind == "order_paid":
        return Email(
            f"Order {order_id[:8]} confirmed",
            f"Thank you! We received your payment of {total} for order {order_id}.",
        )
    if kind == "order_shipped":
        return Email(
            f"Order {order_id[:8]} shipped",
            f"Good news: order {order_id} is on its way.",
        )
    raise ValueError(f"no email for {kind}")
