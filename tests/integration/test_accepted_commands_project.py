"""Property: whatever the write API accepts, every read model stores (issue 8, item 3;
issue 11's fulfilments).

Hypothesis generates command bodies (plausible, hostile and at every limit) and sends them
through the write API. Every answer is a success or a clean refusal, never a 5xx; once the
relay and the catalog, shopping and audit projectors (real consumer groups, in threads)
have caught up, every read model equals the event store.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, example, given, settings

from tests.integration.live_pipeline import LivePipeline, live_pipeline
from tests.integration.read_model_check import unprojected
from tests.support.actors import PASSWORD, Actor, make_actor
from tests.support.command_bodies import AT_THE_LIMITS, ISSUE_8, scenario
from write_api.application import Shop

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def send(actor: Actor, method: str, path: str, body: Any, allowed: set[int]) -> Any:
    """The command as JSON text (lone surrogates escaped as "\\udXXX"); never a 5xx."""
    response = getattr(actor.client, method)(
        f"/api/v1{path}", json.dumps(body), content_type="application/json"
    )
    assert response.status_code in allowed, (method, path, body, response.content)
    return response


def play(case: dict[str, Any], shop: Shop, seller: Actor, admin: Actor) -> None:
    """One shopper's story with a new product; it stops at the first refusal."""
    if case["signup_email"] is not None:
        body = {"email": case["signup_email"], "password": PASSWORD, "role": case["signup_role"]}
        send(make_actor(shop, None), "post", "/auth/signup", body, {201, 400})
    product_body = dict(case["product"])
    if case["category"] is not None:
        added = send(admin, "post", "/categories", {"name": case["category"]}, {201, 400})
        if added.status_code == 201:
            product_body["category_id"] = added.json()["id"]
    created = send(seller, "post", "/products", product_body, {201, 400})
    event(f"product {created.status_code}")
    if created.status_code != 201:
        return
    product = created.json()["id"]
    if case["patch"] is not None:
        send(seller, "patch", f"/products/{product}", case["patch"], {200, 400})
    if case["delta"] is not None:
        send(
            seller, "post", f"/products/{product}/stock", {"delta": case["delta"]}, {200, 400, 409}
        )
    if case["quantity"] is None:
        return
    customer = make_actor(shop, "customer")
    item = {"product_id": product, "quantity": case["quantity"]}
    if send(customer, "post", "/cart/items", item, {200, 400}).status_code != 200:
        return
    address = {"shipping_address": case["address"]}
    placed = send(customer, "post", "/checkout", address, {201, 400, 409})
    event(f"checkout {placed.status_code}")
    if placed.status_code != 201:
        return
    order = placed.json()["order_id"]
    token = {"payment_token": case["token"]}
    paid = send(customer, "post", f"/orders/{order}/pay", token, {200, 400, 402})
    if paid.status_code == 200 and case["review"] is not None:
        reviewed = send(
            customer, "post", f"/products/{product}/reviews", case["review"], {201, 400}
        )
        event(f"review {reviewed.status_code}")
    if paid.status_code == 200 and case["parcel"] is not None:
        parcel = {"product_ids": [product], **case["parcel"]}
        shipped = send(seller, "post", f"/orders/{order}/fulfilments", parcel, {201, 400})
        event(f"fulfilment {shipped.status_code}")
    if paid.status_code == 200 and case["escalation"] is not None:
        escalated = send(
            customer, "post", f"/orders/{order}/escalations", case["escalation"], {201, 400}
        )
        event(f"escalation {escalated.status_code}")


def check_projected_since(pipeline: LivePipeline, position: int) -> None:
    """Everything stored after `position` is in every read model."""
    pipeline.wait_until_caught_up()
    assert unprojected(pipeline.shop, pipeline.index, position) == []


def test_every_accepted_command_projects_into_every_read_model(
    shop_app: Shop, isolated_namespace: str
) -> None:
    # given: the relay and the projectors following the event store from now on
    seller, admin = make_actor(shop_app, "seller"), make_actor(shop_app, "admin")
    with live_pipeline(shop_app, isolated_namespace) as pipeline:
        # No shrinking: each attempt replays commands through the pipeline (minutes), and a
        # failure already names the body, the aggregate and the read model that differ.
        @settings(
            max_examples=40,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(case=scenario())
        @example(case=AT_THE_LIMITS)
        @example(case=ISSUE_8[0])
        @example(case=ISSUE_8[1])
        @example(case=ISSUE_8[2])
        @example(case=ISSUE_8[3])
        @example(case=ISSUE_8[4])
        @example(case=ISSUE_8[5])
        def accepted_commands_project(case: dict[str, Any]) -> None:
            # when
            before = shop_app.recorder.max_notification_id() or 0
            play(case, shop_app, seller, admin)
            # then
            check_projected_since(pipeline, before)

        accepted_commands_project()
