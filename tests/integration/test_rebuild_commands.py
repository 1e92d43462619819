"""Operator commands that replay the event store: index rebuild and relay reset."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command

from adapters.clients import opensearch_client
from projections.catalog.search_index import SearchIndex
from projections.models import RelayCheckpoint
from tests.support.shop_data import create_products
from write_api.application import Shop, shop

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_rebuild_search_index_swaps_to_a_new_generation_holding_every_product(
    shop_app: Shop, isolated_namespace: str
) -> None:
    # given: an index generation already behind the alias
    index = SearchIndex(opensearch_client(), isolated_namespace)
    index.ensure()
    [first] = index.client.indices.get_alias(name=index.alias)
    ids = create_products(shop_app, 4, name="Rebuilt")
    # when
    out = io.StringIO()
    call_command("rebuild_search_index", stdout=out)
    # then
    [current] = index.client.indices.get_alias(name=index.alias)
    assert current == f"{index.alias}_v2"
    assert not index.client.indices.exists(index=first)
    index.refresh()
    docs = index.client.mget(index=index.alias, body={"ids": [str(i) for i in ids]})["docs"]
    assert [d["_source"]["name"] for d in docs] == [f"Rebuilt {i}" for i in range(4)]
    assert f"-> {current}" in out.getvalue()


def test_reset_relay_moves_the_checkpoint_back(isolated_namespace: str) -> None:
    # given
    RelayCheckpoint.objects.create(name=f"{settings.TOPIC_PREFIX}relay", position=99)
    # when
    out = io.StringIO()
    call_command("reset_relay", "--position", "10", stdout=out)
    # then: it says how much the relay will re-publish (the store head is past 10 or not)
    assert RelayCheckpoint.objects.get(name=f"{settings.TOPIC_PREFIX}relay").position == 10
    head = shop().recorder.max_notification_id() or 0
    assert out.getvalue().startswith(
        f"relay checkpoint set to 10: {max(0, head - 10)} events to re-publish;"
    )
