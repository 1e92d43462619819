"""Celery tasks of the read side: notification emails, exactly one per event id."""

from __future__ import annotations

from email.utils import make_msgid
from typing import Any

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone

from projections.notifications.emails import Email, order_email
from projections.notifications.escalation_emails import escalation_email
from projections.notifications.models import SentEmail
from projections.shopping.models import OrderView


class OrderNotProjectedYet(Exception):
    """The order's read row is not there yet: try again shortly."""


@shared_task(  # type: ignore[untyped-decorator]  # celery's decorators are untyped
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError, OrderNotProjectedYet),
    retry_backoff=1,
    retry_backoff_max=30,
    max_retries=12,
)
def send_order_email(
    self: Any, *, event_id: str, kind: str, order_id: str, details: dict[str, str] | None = None
) -> str:
    """Send unless this event's email was sent.

    The event's row is inserted before sending and committed after: a concurrent
    copy of the task blocks on that insert and then finds the row. If the worker
    dies before the commit, the row vanishes with the transaction and the task,
    delivered again (acks_late), sends again; the Message-ID derived from the event
    id lets the mail provider drop such a duplicate.
    """
    order = OrderView.objects.filter(id=order_id).first()
    if order is None:
        raise OrderNotProjectedYet(order_id)
    recipient = get_user_model().objects.get(pk=order.customer_id).email
    email = email_of(kind, order_id, f"{order.total} {order.currency}", details)
    with transaction.atomic():
        try:
            with transaction.atomic():
                SentEmail.objects.create(
                    event_id=event_id,
                    kind=kind,
                    order_id=order_id,
                    recipient=recipient,
                    sent_at=timezone.now(),
                )
        except IntegrityError:
            return "already sent"
        EmailMessage(
            email.subject,
            email.body,
            settings.DEFAULT_FROM_EMAIL,
            [recipient],
            headers={
                "Message-ID": make_msgid(idstring=event_id, domain="shopstream"),
                "X-Shopstream-Event": event_id,
            },
        ).send()
    return "sent"


def email_of(kind: str, order_id: str, total: str, details: dict[str, str] | None) -> Email:
    """An escalation's email carries its `details`; an order's email says its total (with
    its currency)."""
    if details is not None:
        return escalation_email(kind, order_id, details)
    return order_email(kind, order_id, total)
