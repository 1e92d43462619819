"""Helpers for tests against the real local servers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from django import db
from django.conf import settings
from kafka import KafkaConsumer, TopicPartition
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from projections.relay import Relay, load_position
from write_api.accounts import services
from write_api.accounts.models import User
from write_api.application import Shop
from write_api.domain.metadata import CommandContext

pytestmark = pytest.mark.integration


def read_topic(topic: str, expected: int, timeout: float = 15.0) -> list[Any]:
    """Every record of `topic` from the start, once at least `expected` have arrived."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, enable_auto_commit=False
    )
    try:
        deadline = time.monotonic() + timeout
        partitions: set[int] = set()
        while not partitions and time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic) or set()
            time.sleep(0.05)
        assignment = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(assignment)
        consumer.seek_to_beginning(*assignment)
        records: list[Any] = []
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def envelopes(records: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in records]


def in_thread(target: Any, *args: Any) -> None:
    """Run `target` and close the thread's Django connections, so test databases can be dropped."""
    try:
        target(*args)
    finally:
        db.connections.close_all()


def run_until(target: Any, done: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Run `target(stop)` in a thread until `done()` holds or `timeout` passes; True if done."""
    stop = threading.Event()
    thread = threading.Thread(target=in_thread, args=(target, stop), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                return True
            time.sleep(0.05)
        return done()
    finally:
        stop.set()
        thread.join(timeout=15)


def run_relay_until(relay: Relay, position: int | None, timeout: float = 15.0) -> None:
    assert run_until(relay.run, lambda: load_position(relay.name) >= (position or 0), timeout)


def create_products(shop: Shop, count: int, name: str = "Item") -> list[UUID]:
    return [
        shop.create_product(
            name=f"{name} {i}",
            description="",
            price=Decimal("1.00"),
            category_id=None,
            stock=1,
            seller_id=None,
            context=CommandContext(request_id=f"req-{i}"),
        ).id
        for i in range(count)
    ]


@dataclass
class Actor:
    """A user of one role with a fresh token pair, and an API client that sends its token."""

    user: User | None
    access: str
    refresh: str
    client: APIClient


def make_actor(shop: Shop, role: str | None) -> Actor:
    """`role` None is the anonymous caller."""
    if role is None:
        return Actor(None, "", "", APIClient(SERVER_NAME="localhost"))
    email = f"{role}-{uuid4().hex[:10]}@example.com"
    if role in ("customer", "seller"):
        user = services.sign_up(
            shop, email=email, password=PASSWORD, role=role, context=CommandContext()
        )
    else:
        user = User.objects.create_user(email, PASSWORD, role=role, is_staff=role == "admin")
    refresh = RefreshToken.for_user(user)
    client = APIClient(SERVER_NAME="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}")
    return Actor(user, str(refresh.access_token), str(refresh), client)


PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def customer(shop_app: Shop) -> Actor:
    return make_actor(shop_app, "customer")


@pytest.fixture
def seller(shop_app: Shop) -> Actor:
    return make_actor(shop_app, "seller")


@pytest.fixture
def admin(shop_app: Shop) -> Actor:
    return make_actor(shop_app, "admin")
