"""Fixtures for tests against the real local servers (helpers are in tests/support/)."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest

from adapters import outages
from projections.store_table import EVENTS_TABLE
from tests.integration.projection_support import (
    OlderReleaseProducts,
    store_product_as_an_older_release,
)
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


@pytest.fixture
def older_release_products(shop_app: Shop) -> Iterator[OlderReleaseProducts]:
    """Stores products past today's checks, and takes their events out of the store after
    the test. The test database's store outlives each test's read rows (parked events
    included): left there, an event no read model can hold would make any later test that
    replays the whole store (`replay_projection`) meet it unparked."""
    stored: list[UUID] = []

    def store(name: str, stock: int) -> UUID:
        stored.append(store_product_as_an_older_release(shop_app, name, stock))
        return stored[-1]

    yield store
    # On the store's own connection: the test's Django transaction is rolled back after this.
    with shop_app.recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
        cursor.execute(
            f"DELETE FROM {EVENTS_TABLE} WHERE originator_id = ANY(%s)",  # noqa: S608
            [stored],
        )
