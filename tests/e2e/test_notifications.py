"""Order emails: one per event, even when the Celery worker is killed in the middle of sending."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import LiveStack, eventually
from tests.support.shop_data import ADDRESS

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]


def emails_for(mail_dir: Path, order_id: str) -> list[str]:
    if not mail_dir.exists():
        return []
    texts = [p.read_text() for p in mail_dir.glob("*.log")]
    return [t for t in texts if order_id in t]


def test_a_worker_killed_mid_send_still_sends_exactly_one_confirmation(
    live_stack: LiveStack,
) -> None:
    # given: a paid order whose confirmation email is being sent (slowly)
    seller, customer = live_stack.session("seller"), live_stack.session("customer")
    w = f"{live_stack.write_url}/api/v1"
    product = seller.post(
        f"{w}/products",
        json={"name": "Clock", "description": "", "price": "15.00", "stock": 2},
        timeout=10,
    ).json()
    customer.post(f"{w}/cart/items", json={"product_id": product["id"], "quantity": 1}, timeout=10)
    order_id = customer.post(
        f"{w}/checkout", json={"shipping_address": ADDRESS}, timeout=10
    ).json()["order_id"]
    assert (
        customer.post(
            f"{w}/orders/{order_id}/pay", json={"payment_token": "tok_ok"}, timeout=10
        ).status_code
        == 200
    )
    markers = lambda: list(live_stack.mail_dir.glob("sending-*.marker"))  # noqa: E731
    before = set(markers())
    eventually(lambda: set(markers()) - before, timeout=30)
    # when: the worker dies while the mail server is still accepting the message
    live_stack.supervisor.kill("celery-worker", signal.SIGKILL)
    assert emails_for(live_stack.mail_dir, order_id) == []
    live_stack.restart("celery-worker")
    # then: the redelivered task sends it, once
    [email] = eventually(lambda: emails_for(live_stack.mail_dir, order_id), timeout=60)
    assert "confirmed" in email
    time.sleep(8)  # past the broker's visibility timeout: no second delivery may send again
    assert len(emails_for(live_stack.mail_dir, order_id)) == 1


def test_shipping_sends_one_shipping_email(live_stack: LiveStack) -> None:
    seller, customer = live_stack.session("seller"), live_stack.session("customer")
    w = f"{live_stack.write_url}/api/v1"
    product = seller.post(
        f"{w}/products",
        json={"name": "Lamp", "description": "", "price": "5.00", "stock": 2},
        timeout=10,
    ).json()
    customer.post(f"{w}/cart/items", json={"product_id": product["id"], "quantity": 1}, timeout=10)
    order_id = customer.post(
        f"{w}/checkout", json={"shipping_address": ADDRESS}, timeout=10
    ).json()["order_id"]
    customer.post(f"{w}/orders/{order_id}/pay", json={"payment_token": "tok_ok"}, timeout=10)
    for status in ("processing", "shipped"):
        assert seller.post(f"{w}/orders/{order_id}/status", json={"status": status}, timeout=10).ok
    emails = eventually(
        lambda: len(found := emails_for(live_stack.mail_dir, order_id)) == 2 and found, timeout=60
    )
    assert sorted("shipped" in e for e in emails) == [False, True]
