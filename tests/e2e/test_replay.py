"""Replaying the shopping projection on the running system (issue 13, item 3): order
tracking keeps answering, carts changed meanwhile are projected, and no email is sent again."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.support.live_stack import LiveStack, eventually, paid_order

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]
MAX_ADDS = 40
# Longer than a notification consumer's batch and a worker's send: a task enqueued by the
# replay would have sent its email by then.
QUIET_SECONDS = 8


def sent_emails(mail_dir: Path) -> int:
    return len(list(mail_dir.glob("*.log"))) if mail_dir.exists() else 0


def test_replaying_shopping_while_serving_keeps_orders_readable_and_sends_nothing(
    live_stack: LiveStack,
) -> None:
    # given: a paid order whose confirmation was sent, and a shopper with a cart
    seller, customer, order_id = paid_order(live_stack, "Replay kettle", "12.00")
    order_url = f"{live_stack.read_url}/api/v1/orders/{order_id}"
    eventually(lambda: customer.get(order_url, timeout=5).json().get("status") == "paid")
    eventually(lambda: any(order_id in p.read_text() for p in live_stack.mail_dir.glob("*.log")))
    product = seller.post(
        f"{live_stack.write_url}/api/v1/products",
        json={"name": "Replay cup", "description": "", "price": "3.00", "stock": 100},
        timeout=10,
    ).json()["id"]
    shopper = live_stack.session("customer")
    emails = sent_emails(live_stack.mail_dir)
    rows = live_stack.sql("SELECT count(*) FROM projections_sentemail")
    answers: list[tuple[int, str]] = []
    added = [0]
    stop = threading.Event()

    def keep_reading() -> None:
        while not stop.is_set():
            response = customer.get(order_url, timeout=10)
            answers.append((response.status_code, response.json().get("status", "")))

    def keep_adding() -> None:
        while not stop.is_set() and added[0] < MAX_ADDS:
            response = shopper.post(
                f"{live_stack.write_url}/api/v1/cart/items",
                json={"product_id": product, "quantity": 1},
                timeout=10,
            )
            added[0] += response.status_code == 200
            time.sleep(0.05)

    threads = [threading.Thread(target=keep_reading), threading.Thread(target=keep_adding)]
    for thread in threads:
        thread.start()
    # when
    try:
        output = live_stack.manage("replay_projection", "shopping")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
    # then: tracking answered throughout, the cart holds every accepted add
    assert len(answers) >= 3
    assert set(answers) == {(200, "paid")}
    assert added[0] > 0

    def cart_quantity() -> int:
        cart = shopper.get(f"{live_stack.read_url}/api/v1/cart", timeout=5).json()
        return sum(item["quantity"] for item in cart["items"])

    eventually(lambda: cart_quantity() == added[0], timeout=30)
    # and nothing was sent again
    time.sleep(QUIET_SECONDS)
    assert sent_emails(live_stack.mail_dir) == emails
    assert live_stack.sql("SELECT count(*) FROM projections_sentemail") == rows
    assert "events/s" in output
    assert "the new read model is live" in output
