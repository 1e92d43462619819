"""The relay against the real event store and Kafka broker."""

from __future__ import annotations

import threading
from uuid import UUID

import pytest
from django.conf import settings
from opentelemetry.instrumentation.kafka import KafkaInstrumentor

from adapters.clients import kafka_admin, kafka_producer
from projections.doorbell import Doorbell, published_channel
from projections.relay import CheckpointMoved, Relay, load_position, save_position
from projections.topics import ensure_topics
from tests.support.pipeline import envelopes, read_topic, run_relay_until
from tests.support.shop_data import create_product, create_products
from write_api.application import Shop
from write_api.domain.metadata import CommandContext
from write_api.published_events import topic_name

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def prefix(isolated_namespace: str) -> str:
    """This test's topic prefix, with its topics created."""
    admin = kafka_admin()
    ensure_topics(admin, settings.TOPIC_PREFIX, partitions=3)
    admin.close()
    return str(settings.TOPIC_PREFIX)


def test_relay_publishes_every_event_keyed_by_aggregate_in_log_order(
    shop_app: Shop, prefix: str
) -> None:
    # given
    ids = create_products(shop_app, 25)
    head = shop_app.recorder.max_notification_id()
    producer = kafka_producer()
    relay = Relay(shop_app, producer, prefix)
    # when
    run_relay_until(relay, head)
    producer.close()
    # then
    assert load_position(relay.name) == head
    records = read_topic(topic_name(prefix, "Product"), expected=head)
    published = envelopes(records)
    mine = [e for e in published if UUID(e["aggregate_id"]) in set(ids)]
    assert sorted(e["aggregate_id"] for e in mine) == sorted(str(i) for i in ids)
    assert all(r.key.decode() == e["aggregate_id"] for r, e in zip(records, published, strict=True))
    for partition in {r.partition for r in records}:
        positions = [
            e["position"]
            for r, e in zip(records, published, strict=True)
            if r.partition == partition
        ]
        assert positions == sorted(positions)
    assert {e["request_id"] for e in mine} == {f"req-{i}" for i in range(25)}


def test_relay_resumes_after_its_checkpoint_without_republishing_older_events(
    shop_app: Shop, isolated_namespace: str
) -> None:
    # given: a first relay run published everything so far
    prefix = settings.TOPIC_PREFIX
    producer = kafka_producer()
    first_head = shop_app.recorder.max_notification_id() or 0
    run_relay_until(Relay(shop_app, producer, prefix), first_head)
    stored = sum(
        n.topic.startswith("shopstream.product.")
        for n in shop_app.recorder.select_notifications(start=0, limit=100_000)
    )
    already = len(read_topic(topic_name(prefix, "Product"), expected=stored))
    # when: more events arrive and a new relay starts from the checkpoint
    new_ids = create_products(shop_app, 3)
    run_relay_until(Relay(shop_app, producer, prefix), shop_app.recorder.max_notification_id())
    producer.close()
    # then: only the three new events were added to the topic
    records = read_topic(topic_name(prefix, "Product"), expected=already + 3)
    assert already == stored
    assert len(records) == already + 3
    latest = sorted(envelopes(records), key=lambda e: e["position"])[-3:]
    assert [e["aggregate_id"] for e in latest] == [str(i) for i in new_ids]


def test_the_relay_rings_the_bell_of_the_aggregate_types_it_published_once_acknowledged(
    shop_app: Shop, prefix: str
) -> None:
    # given: idle projectors of products and of orders, listening on the relay's channel
    stop = threading.Event()
    products = Doorbell(published_channel(prefix), ["Product"])
    orders = Doorbell(published_channel(prefix), ["Order"])
    start = shop_app.recorder.max_notification_id() or 0
    for bell in (products, orders):
        bell.wait(0.01, stop, seen=start)  # listening from now on
    producer = kafka_producer()
    relay = Relay(shop_app, producer, prefix)
    save_position(relay.name, start)
    create_products(shop_app, 3)
    head = shop_app.recorder.max_notification_id()
    try:
        # when
        run_relay_until(relay, head)
        assert head is not None
        products.wait(10, stop, seen=head - 1)  # passes over the rings of earlier batches
        orders.wait(0.5, stop, seen=start)
    finally:
        producer.close()
        products.close()
        orders.close()
    # then: the product bell heard the last position published; the order bell heard nothing
    assert load_position(relay.name) == head
    assert products.announced == head
    assert orders.announced == 0


def test_the_relay_tells_each_published_batch_end_so_a_replay_reports_progress(
    shop_app: Shop, prefix: str
) -> None:
    # given
    create_products(shop_app, 12)
    head = shop_app.recorder.max_notification_id()
    producer = kafka_producer()
    told: list[int] = []
    relay = Relay(shop_app, producer, prefix, batch_size=5, on_published=told.append)
    # when
    run_relay_until(relay, head)
    producer.close()
    # then
    assert told[-1] == head
    assert told == sorted(told)
    assert len(told) >= 3  # at least 12 events in batches of 5


def test_a_batch_in_flight_when_an_operator_moves_the_checkpoint_does_not_undo_the_move(
    shop_app: Shop, prefix: str
) -> None:
    # given: a relay that last recorded the head, and three new events it is publishing
    create_products(shop_app, 5)
    start = shop_app.recorder.max_notification_id() or 0
    save_position(f"{prefix}relay", start)
    producer = kafka_producer()
    relay = Relay(shop_app, producer, prefix)
    relay.position = start
    create_products(shop_app, 3)
    batch = shop_app.recorder.select_notifications(start=start + 1, limit=3)
    save_position(relay.name, start - 5)  # meanwhile: `manage.py reset_relay`
    # when
    try:
        with pytest.raises(CheckpointMoved):
            relay.publish(batch)
    finally:
        producer.close()
    # then: the checkpoint stays where the operator put it, for the relay to read from there
    assert load_position(relay.name) == start - 5
    assert relay.position == start


def test_without_the_kafka_instrumentation_the_relay_sends_the_stored_traceparent(
    shop_app: Shop, prefix: str
) -> None:
    # given: a product created in a trace, and no instrumentation wrapping the producer
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    producer = kafka_producer()
    relay = Relay(shop_app, producer, prefix)
    save_position(relay.name, shop_app.recorder.max_notification_id() or 0)
    context = CommandContext(actor_role="seller", traceparent=traceparent)
    saved = create_product(shop_app, context=context)
    instrumentor = KafkaInstrumentor()
    instrumented = instrumentor.is_instrumented_by_opentelemetry
    if instrumented:  # a tracing test earlier in this process installed it
        instrumentor.uninstrument()
    # when
    try:
        run_relay_until(relay, shop_app.recorder.max_notification_id())
    finally:
        producer.close()
        if instrumented:
            instrumentor.instrument()
    # then
    records = read_topic(topic_name(prefix, "Product"), expected=1)
    [record] = [r for r in records if r.key.decode() == str(saved.id)]
    assert record.headers == [("traceparent", traceparent.encode())]
