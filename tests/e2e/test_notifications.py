"""Order emails: one per event, even when the Celery worker is killed in the middle of sending."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.support.live_stack import LiveStack, eventually, paid_order

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
    markers = lambda: set(live_stack.mail_dir.glob("sending-*.marker"))  # noqa: E731
    before = markers()
    _, _, order_id = paid_order(live_stack, "Clock", "15.00")
    eventually(lambda: markers() - before, timeout=30)
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
    # given
    seller, _, order_id = paid_order(live_stack, "Lamp", "5.00")
    # when
    for status in ("processing", "shipped"):
        response = seller.post(
            f"{live_stack.write_url}/api/v1/orders/{order_id}/status",
            json={"status": status},
            timeout=10,
        )
        assert response.status_code == 200
    # then: the confirmation and the shipping email, one each
    emails = eventually(
        lambda: len(found := emails_for(live_stack.mail_dir, order_id)) == 2 and found, timeout=60
    )
    assert sorted("shipped" in e for e in emails) == [False, True]
