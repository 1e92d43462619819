"""SIGKILL the relay and the projector mid-stream: every event lands exactly once in effect."""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from opensearchpy import OpenSearch, helpers

from projections.catalog.product_state import State
from projections.catalog.rebuild import Catalog, fold
from projections.catalog.search_index import products_alias
from tests.e2e.conftest import LiveStack, eventually, settle
from write_api.domain.metadata import CommandContext

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

EVENTS = 1_200


def append_products(stack: LiveStack, count: int, appended: list[int]) -> None:
    shop = stack.shop()
    try:
        for i in range(count):
            shop.create_product(
                name=f"Crash {i}",
                description=f"item {i}",
                price=Decimal(f"{1 + i % 50}.99"),
                category_id=None,
                stock=i % 7,
                seller_id=None,
                context=CommandContext(actor_role="system", request_id=f"crash-{i}"),
            )
            appended.append(i)
    finally:
        shop.close()


def read_rows(stack: LiveStack) -> dict[str, dict[str, Any]]:
    rows = stack.sql(
        "SELECT id, name, description, price, stock, reserved, version, created_at "
        "FROM projections_product_view"
    )
    return {
        str(r[0]): {
            "name": r[1],
            "description": r[2],
            "price": str(r[3]),
            "stock": r[4],
            "reserved": r[5],
            "version": r[6],
            "created_at": r[7],
        }
        for r in rows
    }


def expected_rows(states: dict[str, State]) -> dict[str, dict[str, Any]]:
    return {
        i: {
            "name": s["name"],
            "description": s["description"],
            "price": s["price"],
            "stock": s["stock"],
            "reserved": s["reserved"],
            "version": s["version"],
            "created_at": datetime.fromisoformat(s["created_at"]),
        }
        for i, s in states.items()
    }


def indexed_documents(stack: LiveStack) -> dict[str, dict[str, Any]]:
    client = OpenSearch(hosts=[stack.supervisor.base_env["OPENSEARCH_URL"]])
    alias = products_alias(stack.namespace)
    client.indices.refresh(index=alias)
    return {
        hit["_id"]: hit["_source"]
        for hit in helpers.scan(client, index=alias, query={"query": {"match_all": {}}})
    }


def test_sigkilled_relay_and_projector_lose_and_duplicate_nothing(live_stack: LiveStack) -> None:
    # given: a stream of events being appended while the pipeline runs
    appended: list[int] = []
    writer = threading.Thread(target=append_products, args=(live_stack, EVENTS, appended))
    writer.start()
    # when: each pipeline process is killed mid-stream and restarted
    eventually(lambda: len(appended) >= EVENTS // 4, timeout=60)
    live_stack.supervisor.kill("relay", signal.SIGKILL)
    eventually(lambda: len(appended) >= EVENTS // 2, timeout=60)
    live_stack.restart("relay")
    live_stack.supervisor.kill("projector", signal.SIGKILL)
    eventually(lambda: len(appended) >= 3 * EVENTS // 4, timeout=60)
    live_stack.restart("projector")
    writer.join(timeout=120)
    assert len(appended) == EVENTS
    # then: the read rows and the index equal a rebuild from the event store
    shop = live_stack.shop()
    catalog = Catalog()
    fold(shop, 0, catalog)
    shop.close()
    states = catalog.products
    want_rows = expected_rows(states)
    want_documents = {d["id"]: d for d in catalog.documents()}
    settle(lambda: read_rows(live_stack) == want_rows, timeout=90)
    settle(lambda: indexed_documents(live_stack) == want_documents, timeout=60)
    assert read_rows(live_stack) == want_rows
    assert indexed_documents(live_stack) == want_documents
    assert sum(1 for s in states.values() if s["name"].startswith("Crash ")) == EVENTS
    assert live_stack.sql(
        "SELECT count(*) FROM projections_parkedevent WHERE status = 'parked'"
    ) == [(0,)]
