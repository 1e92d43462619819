"""The public review list names reviewers by their display name and never shows account ids."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.support.live_stack import PASSWORD, LiveStack, eventually
from tests.support.shop_data import ADDRESS

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def customer(stack: LiveStack, **profile: str) -> tuple[str, requests.Session]:
    """A new customer's account id and a session logged in as them."""
    email = f"reviewer-{uuid.uuid4().hex[:10]}@e2e.example.com"
    body = {"email": email, "password": PASSWORD, **profile}
    signed_up = requests.post(f"{stack.write_url}/api/v1/auth/signup", json=body, timeout=30)
    assert signed_up.status_code == 201, signed_up.text
    tokens = requests.post(
        f"{stack.write_url}/api/v1/auth/token",
        json={"email": email, "password": PASSWORD},
        timeout=30,
    ).json()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {tokens['access']}"
    return signed_up.json()["id"], session


def buy_and_review(stack: LiveStack, session: requests.Session, product_id: str, **review: object):  # type: ignore[no-untyped-def]
    w = f"{stack.write_url}/api/v1"
    session.post(f"{w}/cart/items", json={"product_id": product_id, "quantity": 1}, timeout=10)
    order = session.post(f"{w}/checkout", json={"shipping_address": ADDRESS}, timeout=10).json()
    paid = session.post(
        f"{w}/orders/{order['order_id']}/pay", json={"payment_token": "tok_ok"}, timeout=10
    )
    assert paid.status_code == 200, paid.text
    return session.post(f"{w}/products/{product_id}/reviews", json=review, timeout=10)


def test_reviews_show_display_names_and_no_account_ids(live_stack: LiveStack) -> None:
    # given: a product bought by a customer with a display name and one without
    seller = live_stack.session("seller")
    product = seller.post(
        f"{live_stack.write_url}/api/v1/products",
        json={"name": "Milk jug", "description": "", "price": "9.00", "stock": 2},
        timeout=10,
    ).json()
    named_id, named = customer(live_stack, display_name="Tea Lover")
    quiet_id, quiet = customer(live_stack)
    # when
    first = buy_and_review(live_stack, named, product["id"], rating=5, comment="Pours well")
    second = buy_and_review(live_stack, quiet, product["id"], rating=3, comment="")
    listed = eventually(
        lambda: (
            (
                r := requests.get(
                    f"{live_stack.read_url}/api/v1/products/{product['id']}/reviews", timeout=5
                )
            ).status_code
            == 200
            and r.json()["count"] == 2
            and r
        ),
        timeout=30,
    )
    # then
    assert (first.status_code, first.json()["reviewer_name"]) == (201, "Tea Lover")
    assert (second.status_code, second.json()["reviewer_name"]) == (201, "Verified buyer")
    results = listed.json()["results"]
    assert sorted((r["reviewer_name"], r["rating"], r["comment"]) for r in results) == [
        ("Tea Lover", 5, "Pours well"),
        ("Verified buyer", 3, ""),
    ]
    assert [sorted(r) for r in results] == [
        ["comment", "created_at", "id", "rating", "reviewer_name"]
    ] * 2
    assert named_id not in listed.text
    assert quiet_id not in listed.text
