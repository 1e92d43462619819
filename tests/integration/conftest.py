"""Fixtures for tests against the real local servers (helpers are in tests/support/)."""

from __future__ import annotations

import pytest

from adapters import outages
from tests.support.actors import Actor, make_actor
from write_api.application import Shop

pytestmark = pytest.mark.integration


@pytest.fixture
def customer(shop_app: Shop) -> Actor:
    return make_actor(shop_app, "customer")


@pytest.fixture
def seller(shop_app: Shop) -> Actor:
    return make_actor(shop_app, "seller")


@pytest.fixture
def admin(shop_app: Shop) -> Actor:
    return make_actor(shop_app, "admin")


@pytest.fixture(autouse=True)
def redis_in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with Redis in use, whatever stall an earlier test left this process in."""
    monkeypatch.setattr(outages, "_redis_paused_until", 0.0)
