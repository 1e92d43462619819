"""Zero-downtime rebuild: searches keep answering correctly while the index is rebuilt and after."""

from __future__ import annotations

import threading
import uuid

import pytest
import requests
from opensearchpy import OpenSearch

from projections.catalog.search_index import products_alias
from tests.support.live_stack import LiveStack, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]


def test_searches_answer_correctly_during_and_after_a_rebuild(live_stack: LiveStack) -> None:
    # given: products that searches must keep finding
    token = f"rb{uuid.uuid4().hex[:6]}"
    seller = live_stack.session("seller")
    for i in range(30):
        seller.post(
            f"{live_stack.write_url}/api/v1/products",
            timeout=10,
            json={"name": f"{token} piece {i}", "description": "", "price": "2.00", "stock": 1},
        )
    url = f"{live_stack.read_url}/api/v1/products"
    eventually(lambda: requests.get(url, params={"search": token}, timeout=5).json()["count"] == 30)
    client = OpenSearch(hosts=[live_stack.supervisor.base_env["OPENSEARCH_URL"]])
    alias = products_alias(live_stack.namespace)
    [before] = client.indices.get_alias(name=alias)
    answers: list[tuple[int, int]] = []
    stop = threading.Event()

    def keep_searching() -> None:
        while not stop.is_set():
            response = requests.get(url, params={"search": token, "page_size": 100}, timeout=5)
            answers.append((response.status_code, response.json().get("count", -1)))

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    # when
    try:
        output = live_stack.manage("rebuild_search_index")
    finally:
        stop.set()
        searcher.join(timeout=10)
    # then: every search during the rebuild answered in full
    assert len(answers) >= 5
    assert set(answers) == {(200, 30)}
    [after] = client.indices.get_alias(name=alias)
    assert after != before
    assert not client.indices.exists(index=before)
    progress = output.strip().splitlines()[0]
    assert "documents" in progress
    assert "/s" in progress
    assert "ETA" in progress
    assert requests.get(url, params={"search": token}, timeout=5).json()["count"] == 30
