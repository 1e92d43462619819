"""The admin page of open escalations: oldest first, linked to order timelines, resolved only
through the resolve use case."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.integration.test_admin import csrf_token, logged_in
from tests.integration.test_escalations import paid_order, project_since
from tests.support.actors import Actor, make_actor
from write_api.application import Shop
from write_api.domain.metadata import CommandContext

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
PAGE = "/admin/projections/escalationview/"


def open_one(shop_app: Shop, customer: Actor, seller: Actor, reason: str) -> str:
    order_id = uuid.UUID(paid_order(shop_app, customer, seller))
    saved = shop_app.open_escalation(
        order_id,
        customer_id=customer.user.id,  # type: ignore[union-attr]
        reason=reason,
        message="Help.",
        context=CommandContext(actor_role="customer"),
    )
    return str(saved.id)


def test_the_admin_lists_open_escalations_oldest_first_and_resolves_through_the_command(
    shop_app: Shop, customer: Actor, seller: Actor
) -> None:
    # given: three escalations, the middle one already resolved, all projected
    start = shop_app.recorder.max_notification_id() or 0
    oldest = open_one(shop_app, customer, seller, "damaged")
    done = open_one(shop_app, customer, seller, "other")
    newest = open_one(shop_app, customer, seller, "wrong_item")
    shop_app.reject_escalation(uuid.UUID(done), message="No.", context=CommandContext())
    project_since(shop_app, start)
    admin = make_actor(shop_app, "admin").user
    assert admin is not None
    client = logged_in(admin.email)
    # when
    page = client.get(PAGE).content.decode()
    listed = re.findall(r'name="_selected_action" value="([0-9a-f-]{36})"', page)
    order_of_oldest = str(shop_app.get_escalation(uuid.UUID(oldest)).order_id)
    timeline = client.get(f"{PAGE}order/{order_of_oldest}/timeline/").content.decode()
    token = csrf_token(client, PAGE)
    asked = client.post(
        PAGE, {"action": "resolve", "_selected_action": [oldest], "csrfmiddlewaretoken": token}
    )
    resolved = client.post(
        PAGE,
        {
            "action": "resolve",
            "_selected_action": [oldest],
            "apply": "1",
            "resolution": "reject",
            "message": "Delivered as described.",
            "csrfmiddlewaretoken": token,
        },
    )
    # then
    assert listed == [oldest, newest]
    assert f"{PAGE}order/{order_of_oldest}/timeline/" in page
    assert re.findall(r"<td>((?:Order|Escalation)\w+)</td>", timeline) == [
        "OrderPlaced",
        "OrderPaid",
        "EscalationOpened",
    ]
    assert asked.status_code == 200
    assert 'name="message"' in asked.content.decode()
    assert resolved.status_code == 302
    escalation = shop_app.get_escalation(uuid.UUID(oldest))
    assert (escalation.status, escalation.resolution) == (
        "resolved",
        {"resolution": "reject", "refund": None},
    )
    assert list(shop_app.events.get(uuid.UUID(oldest)))[-1].metadata["actor_id"] == str(admin.pk)
