"""Operator commands that replay the event store: index rebuild and relay reset (followed)."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from adapters.clients import kafka_producer, opensearch_client
from projections.catalog.search_index import SearchIndex
from projections.models import RelayCheckpoint
from projections.relay import Relay, load_position, save_position
from tests.integration.projection_support import eventually
from tests.support.pipeline import envelopes, in_background, read_topic
from tests.support.shop_data import create_products
from write_api.application import Shop, shop
from write_api.published_events import topic_name

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


def test_reset_relay_without_following_moves_the_checkpoint_back_and_returns(
    isolated_namespace: str,
) -> None:
    # given
    RelayCheckpoint.objects.create(name=f"{settings.TOPIC_PREFIX}relay", position=99)
    # when
    out = io.StringIO()
    call_command("reset_relay", "--position", "10", "--no-follow", stdout=out)
    # then: it says how much the relay will re-publish (the store head is past 10 or not)
    assert RelayCheckpoint.objects.get(name=f"{settings.TOPIC_PREFIX}relay").position == 10
    head = shop().recorder.max_notification_id() or 0
    assert out.getvalue().startswith(
        f"relay checkpoint set to 10: {max(0, head - 10)} events to re-publish up to position"
        f" {head};"
    )
    assert len(out.getvalue().splitlines()) == 1


@pytest.mark.django_db(transaction=True)  # the relay's thread reads what the command saved
def test_reset_relay_follows_a_running_relay_back_to_the_head_with_progress_lines(
    shop_app: Shop, isolated_namespace: str
) -> None:
    # given: a relay running at the store's head, the last 20 events published already
    create_products(shop_app, 20, name="Republished")
    head = shop_app.recorder.max_notification_id() or 0
    prefix = settings.TOPIC_PREFIX
    save_position(f"{prefix}relay", head)
    producer = kafka_producer()
    relay = Relay(shop_app, producer, prefix)
    out = io.StringIO()  # no terminal: progress comes as lines
    try:
        with in_background(relay.run):
            assert eventually(lambda: relay.position == head, timeout=10)
            # when
            call_command("reset_relay", "--position", str(head - 20), stdout=out)
    finally:
        producer.close()
    # then: the relay started over while running, and the command followed it to the head
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(
        f"relay checkpoint set to {head - 20}: 20 events to re-publish up to position {head};"
    )
    assert lines[1].startswith("relay re-publish: 0/20 events, ")
    assert lines[-2].startswith("relay re-publish: 20/20 events, ")
    assert all("ETA" in line for line in lines[1:-1])
    assert lines[-1] == f"the relay re-published 20 events up to position {head}"
    assert load_position(f"{prefix}relay") == head
    records = read_topic(topic_name(prefix, "Product"), expected=20)
    assert sorted(e["position"] for e in envelopes(records)) == list(range(head - 19, head + 1))


def test_reset_relay_with_no_relay_running_stops_after_the_stall_time_and_says_so(
    shop_app: Shop, isolated_namespace: str
) -> None:
    # given: nothing publishes this namespace's events
    create_products(shop_app, 1)
    head = shop_app.recorder.max_notification_id() or 0
    out = io.StringIO()
    # when
    with pytest.raises(CommandError, match="seems not to be running") as stalled:
        call_command("reset_relay", "--position", str(head - 1), "--stall-seconds", "1", stdout=out)
    # then: exit 1, the way to start it named, and the checkpoint left where it was set
    assert stalled.value.returncode == 1
    assert "`make up`" in str(stalled.value)
    assert f"at position {head - 1} of {head}" in str(stalled.value)
    assert out.getvalue().splitlines()[-1].startswith("relay re-publish: 0/1 events, ")
    assert load_position(f"{settings.TOPIC_PREFIX}relay") == head - 1
