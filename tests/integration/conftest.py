"""Fixtures for tests against the real local servers (helpers are in tests/support/)."""

from __future__ import annotations

import pytest

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
