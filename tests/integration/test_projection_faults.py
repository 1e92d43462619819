"""The projector loop on real servers: outages are retried, poison events parked, bumps kept."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from kafka import KafkaProducer
from opensearchpy import OpenSearch
from prometheus_client import REGISTRY

from adapters.clients import (
    kafka_admin,
    kafka_consumer,
    kafka_producer,
    opensearch_client,
)
from projections import cache_outbox
from projections.audit.models import AuditEvent
from projections.audit.projector import AuditProjector
from projections.catalog import cache_keys
from projections.catalog.models import ProductView
from projections.catalog.projector import CatalogProjector
from projections.catalog.search_index import SearchIndex
from projections.consumer import ProjectionRunner
from projections.models import ParkedEvent, ProjectionCheckpoint
from projections.parking import original_envelope
from projections.progress import version_announcer
from projections.relay import Relay, save_position
from projections.topics import ensure_topics
from tests.integration.projection_support import (
    UNSTORABLE_STOCK,
    closed_port,
    created_data,
    eventually,
    key_on_other_partition,
    partition_of,
    product_envelope,
    running,
)
from tests.integration.test_catalog_projector import documents
from tests.support.pipeline import run_relay_until
from tests.support.shop_data import create_product, create_products
from tests.support.stall import stalled
from write_api.application import Shop
from write_api.domain.metadata import CommandContext
from write_api.published_events import topic_name

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
PARTITIONS = 2


@pytest.fixture
def pipeline(shop_app: Shop, isolated_namespace: str, settings: Any):  # type: ignore[no-untyped-def]
    """Topics, an index alias and a producer of this test's own namespace."""
    settings.PROJECTION_MAX_ATTEMPTS = 3
    prefix = settings.TOPIC_PREFIX
    admin = kafka_admin()
    ensure_topics(admin, prefix, partitions=PARTITIONS)
    admin.close()
    index = SearchIndex(opensearch_client(), isolated_namespace)
    index.ensure()
    producer = kafka_producer()
    # Relay only this test's events: the store also holds every earlier test's, some of
    # them stored unprojectable on purpose, which would park here and slow the catch-up.
    save_position(f"{prefix}relay", shop_app.recorder.max_notification_id() or 0)
    yield prefix, index, producer
    producer.close()
    for name in index.client.indices.get(index=f"{index.alias}_v*", ignore_unavailable=True):
        opensearch_client().indices.delete(index=name)


class CountingIndex(SearchIndex):
    """The real index, counting the projector's write attempts."""

    attempts = 0

    def index_documents(self, *args: Any, **kwargs: Any) -> Any:
        self.attempts += 1
        return super().index_documents(*args, **kwargs)


def catalog_runner(prefix: str, index: SearchIndex, **kwargs: Any) -> ProjectionRunner:
    projector = CatalogProjector(index)
    consumer = kafka_consumer(f"{prefix}catalog", ProjectionRunner.topics(projector, prefix))
    return ProjectionRunner(projector, consumer, prefix, **kwargs)


def counted(name: str, **labels: str) -> float:
    """A projector counter of this process (no multiprocess directory in tests)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def group_generation(runner: ProjectionRunner) -> int:
    """The consumer group generation this member joined (kafka-python keeps it private)."""
    return runner.consumer._coordinator._generation.generation_id  # type: ignore[attr-defined]


def test_an_opensearch_that_refuses_connections_is_retried_and_nothing_is_parked(
    shop_app: Shop, pipeline, isolated_namespace: str
) -> None:  # type: ignore[no-untyped-def]
    # given: OpenSearch is away (nothing listens where the projector looks for it)
    prefix, index, producer = pipeline
    [product] = create_products(shop_app, 1, name="Outage")
    run_relay_until(Relay(shop_app, producer, prefix), shop_app.recorder.max_notification_id())
    away = OpenSearch(hosts=[f"http://127.0.0.1:{closed_port()}"], timeout=1, max_retries=0)
    counting = CountingIndex(away, isolated_namespace)
    runner = catalog_runner(prefix, counting)
    retries = counted("shopstream_projector_retries_total", projector="catalog")
    with running(runner) as thread:
        # when: the projector meets the outage more often than it would try a bad event
        assert eventually(lambda: counting.attempts >= 5)
        # then: retried, nothing parked, nothing half-written
        assert ParkedEvent.objects.filter(aggregate_id=str(product)).count() == 0
        assert not ProductView.objects.filter(id=product).exists()
        assert thread.is_alive()
        assert counted("shopstream_projector_retries_total", projector="catalog") >= retries + 4
        # when: OpenSearch is back
        counting.client = opensearch_client()
        # then: the product arrives in the rows and the index
        assert eventually(lambda: ProductView.objects.filter(id=product).exists())
    assert list(documents(index, [product])) == [str(product)]
    assert ParkedEvent.objects.filter(aggregate_id=str(product)).count() == 0


@pytest.mark.slow
def test_a_stalled_opensearch_times_out_is_retried_and_the_product_appears_after(
    shop_app: Shop, pipeline, isolated_namespace: str
) -> None:  # type: ignore[no-untyped-def]
    # given: the projector talks to the real OpenSearch with a short timeout
    prefix, index, producer = pipeline
    # An attempt plus the back-off outlasts the poll interval (5 s): the member must poll
    # while it backs off to keep its partitions.
    impatient = OpenSearch(hosts=[settings.OPENSEARCH_URL], timeout=4, max_retries=0)
    counting = CountingIndex(impatient, isolated_namespace)
    runner = catalog_runner(prefix, counting)
    with running(runner) as thread:
        assert eventually(lambda: runner.consumer.assignment() != set())
        joined = group_generation(runner)
        # when: OpenSearch stalls while a product is projected
        with stalled(settings.OPENSEARCH_URL):
            [product] = create_products(shop_app, 1, name="Stalled")
            head = shop_app.recorder.max_notification_id()
            run_relay_until(Relay(shop_app, producer, prefix), head)
            assert eventually(lambda: counting.attempts >= 4, timeout=60)
            # then: timeouts are outages, not bad data
            assert ParkedEvent.objects.filter(aggregate_id=str(product)).count() == 0
            assert not ProductView.objects.filter(id=product).exists()
        assert eventually(lambda: ProductView.objects.filter(id=product).exists())
        assert thread.is_alive()
        # and the member kept its partitions through retries longer than the poll interval
        assert group_generation(runner) == joined
    assert list(documents(index, [product])) == [str(product)]
    assert ParkedEvent.objects.filter(aggregate_id=str(product)).count() == 0


@pytest.mark.slow
def test_a_redis_stall_neither_stops_the_projector_nor_loses_the_cache_bump(
    shop_app: Shop, pipeline
) -> None:  # type: ignore[no-untyped-def]
    # given: a projected product whose cache generation Redis holds
    prefix, index, producer = pipeline
    [product] = create_products(shop_app, 1, name="Cached")
    run_relay_until(Relay(shop_app, producer, prefix), shop_app.recorder.max_notification_id())
    runner = catalog_runner(
        prefix, index, announce=version_announcer(settings.SHOPSTREAM_NAMESPACE)
    )
    key = cache_keys.product_key(str(product))
    with running(runner) as thread:
        assert eventually(lambda: ProductView.objects.filter(id=product).exists())
        assert eventually(lambda: cache_outbox.pending() == 0)
        before = cache_keys.generation(key)
        # when: Redis stalls while the product is repriced and projected
        with stalled(settings.REDIS_URL):
            shop_app.change_product(product, price=Decimal("7.50"), context=CommandContext())
            head = shop_app.recorder.max_notification_id()
            run_relay_until(Relay(shop_app, producer, prefix), head)
            assert eventually(lambda: ProductView.objects.get(id=product).version == 2)
            # then: the bump waits in the outbox, and the projector goes on
            assert cache_outbox.pending() >= 1
            assert eventually(lambda: runner.cache.failures >= 2, timeout=15)
            assert thread.is_alive()
        # then: once Redis answers, the bump lands
        assert eventually(lambda: cache_outbox.pending() == 0)
        assert thread.is_alive()
    assert before >= 1
    # At least once: an INCR sent before a timeout may still run when Redis resumes.
    assert cache_keys.generation(key) > before
    assert str(ProductView.objects.get(id=product).price) == "7.50"


def test_a_poison_event_is_parked_after_k_attempts_and_holds_back_only_its_aggregate(
    shop_app: Shop, pipeline
) -> None:  # type: ignore[no-untyped-def]
    # given: another product, projected normally
    prefix, index, producer = pipeline
    [other] = create_products(shop_app, 1, name="Neighbour")
    run_relay_until(Relay(shop_app, producer, prefix), shop_app.recorder.max_notification_id())
    # and an older release's envelopes of a product whose stock no read model holds
    poison = key_on_other_partition(str(other), PARTITIONS)
    topic = topic_name(prefix, "Product")
    first, second = 10**12, 10**12 + 1
    for envelope in (
        product_envelope(poison, 1, first, "ProductCreated", created_data("Big", UNSTORABLE_STOCK)),
        product_envelope(poison, 2, second, "ProductRepriced", {"price": "4.00"}),
    ):
        producer.send(topic, key=poison, value=envelope).get(timeout=10)
    runner = catalog_runner(prefix, index)
    parked = counted("shopstream_projector_events_total", projector="catalog", outcome="parked")
    retries = counted("shopstream_projector_retries_total", projector="catalog")
    failures = counted("shopstream_projector_failures_total", projector="catalog")
    # when: the projector runs; then the poison product and the other one change again
    with running(runner):
        assert eventually(lambda: ParkedEvent.objects.filter(aggregate_id=poison).count() == 2)
        third = product_envelope(poison, 3, second + 1, "ProductDiscontinued", {})
        producer.send(topic, key=poison, value=third).get(timeout=10)
        shop_app.change_product(other, price=Decimal("2.25"), context=CommandContext())
        run_relay_until(Relay(shop_app, producer, prefix), shop_app.recorder.max_notification_id())
        assert eventually(lambda: ProductView.objects.get(id=other).version == 2)
        assert eventually(lambda: ParkedEvent.objects.filter(aggregate_id=poison).count() == 3)
    # then: the culprit is parked with its error after K tries, the later events behind it
    culprit, behind, later = ParkedEvent.objects.filter(aggregate_id=poison).order_by("position")
    assert (culprit.projector, culprit.position, culprit.status, culprit.attempts) == (
        "catalog",
        first,
        "parked",
        3,
    )
    assert "out of range" in culprit.error
    assert culprit.envelope["data"]["stock"] == UNSTORABLE_STOCK
    assert culprit.source.startswith(f"{topic}:{partition_of(poison, PARTITIONS)}@")
    assert (behind.position, behind.status, behind.attempts) == (second, "parked", 0)
    assert behind.error == "held back: an earlier event of this aggregate is parked"
    assert (later.position, later.status, later.attempts) == (second + 1, "parked", 0)
    # and the poison aggregate has no row, the other one is current, the checkpoint moved on
    assert not ProductView.objects.filter(id=poison).exists()
    assert str(ProductView.objects.get(id=other).price) == "2.25"
    checkpoint = ProjectionCheckpoint.objects.get(
        projector=f"{prefix}catalog", partition=f"{topic}:{partition_of(poison, PARTITIONS)}"
    )
    assert checkpoint.position == second + 1
    # and the projector's counters saw it: one event tried K times, three parked
    labels = {"projector": "catalog"}
    assert counted("shopstream_projector_events_total", **labels, outcome="parked") == parked + 3
    assert counted("shopstream_projector_retries_total", **labels) >= retries + 2
    assert counted("shopstream_projector_failures_total", **labels) >= failures + 1


@pytest.fixture
def refuse_names_like():  # type: ignore[no-untyped-def]
    """A read-table constraint that refuses some rows, as a too-narrow column would."""
    added: list[str] = []

    def refuse(prefix: str) -> None:
        name = f"refuse_{len(added)}"
        with connection.cursor() as cursor:
            cursor.execute(
                f"ALTER TABLE projections_product_view ADD CONSTRAINT {name} "
                f"CHECK (name NOT LIKE %s) NOT VALID",
                [f"{prefix}%"],
            )
        added.append(name)

    def relax() -> None:
        with connection.cursor() as cursor:
            for name in added:
                cursor.execute(f"ALTER TABLE projections_product_view DROP CONSTRAINT {name}")
        added.clear()

    refuse.relax = relax  # type: ignore[attr-defined]
    yield refuse
    relax()


def park_a_product_and_its_reprice(
    shop_app: Shop, pipeline: Any, refuse: Any, name: str
) -> tuple[Any, list[ParkedEvent]]:
    """A product the read table refuses is parked; its reprice parks behind it."""
    prefix, index, producer = pipeline
    refuse(name)
    product = create_product(
        shop_app,
        name=f"{name} lamp",
        description="",
        price=Decimal("5.00"),
        stock=2,
        seller_id=None,
        context=CommandContext(),
    ).id
    shop_app.change_product(product, price=Decimal("6.00"), context=CommandContext())
    run_relay_until(Relay(shop_app, producer, prefix), shop_app.recorder.max_notification_id())
    with running(catalog_runner(prefix, index)):
        assert eventually(
            lambda: ParkedEvent.objects.filter(aggregate_id=str(product)).count() == 2
        )
    return product, list(ParkedEvent.objects.filter(aggregate_id=str(product)).order_by("id"))


def test_redrive_after_the_cause_is_fixed_applies_the_parked_events_in_order(
    shop_app: Shop, pipeline, refuse_names_like
) -> None:  # type: ignore[no-untyped-def]
    # given: a product and its reprice, parked while the read table refused the product
    product, (created, repriced) = park_a_product_and_its_reprice(
        shop_app, pipeline, refuse_names_like, f"Refused-{pipeline[0]}"
    )
    assert ("refuse_0" in created.error, created.attempts) == (True, 3)
    assert (repriced.attempts, repriced.position > created.position) == (0, True)
    # when: the cause is fixed (the constraint relaxed) and the operator redrives
    refuse_names_like.relax()
    call_command("parked", "redrive", str(created.pk), stdout=open("/dev/null", "w"))  # noqa: SIM115
    # then: both applied, in order, and recorded as redriven
    row = ProductView.objects.get(id=product)
    assert (row.version, str(row.price)) == (2, "6.00")
    for event in ParkedEvent.objects.filter(aggregate_id=str(product)):
        assert (event.status, event.resolved_by.startswith("cli:")) == ("redriven", True)
        assert event.resolved_at is not None
    [document] = documents(pipeline[1], [product]).values()
    assert (document["version"], document["price_text"]) == (2, "6.00")
    assert ParkedEvent.objects.filter(aggregate_id=str(product), status="parked").count() == 0


def test_an_envelope_postgresql_cannot_store_is_parked_exactly_and_the_audit_goes_on(
    shop_app: Shop, pipeline
) -> None:  # type: ignore[no-untyped-def]
    # given: an older release published a NUL character (and a product after it)
    prefix, _, producer = pipeline
    order = str(uuid.uuid4())
    poison = {
        **product_envelope(order, 1, 10**12, "OrderPaid", {"charge_id": "ch_\x00", "amount": "1"}),
        "aggregate_type": "Order",
    }
    producer.send(topic_name(prefix, "Order"), key=order, value=poison).get(timeout=10)
    [product] = create_products(shop_app, 1, name="Audited")
    run_relay_until(Relay(shop_app, producer, prefix), shop_app.recorder.max_notification_id())
    projector = AuditProjector()
    consumer = kafka_consumer(f"{prefix}audit", ProjectionRunner.topics(projector, prefix))
    # when
    with running(ProjectionRunner(projector, consumer, prefix)):
        assert eventually(lambda: ParkedEvent.objects.filter(aggregate_id=order).exists())
        assert eventually(
            lambda: AuditEvent.objects.filter(aggregate_id=product, version=1).exists()
        )
    # then: parked with a readable copy, and the exact envelope kept for a redrive
    [parked] = ParkedEvent.objects.filter(aggregate_id=order)
    assert (parked.projector, parked.attempts, parked.status) == ("audit", 3, "parked")
    assert parked.envelope["data"]["charge_id"] == "ch_\ufffd"
    assert original_envelope(parked) == poison
    assert not AuditEvent.objects.filter(aggregate_id=order).exists()


def test_messages_that_are_no_envelope_are_each_parked_once_and_the_stream_goes_on(
    shop_app: Shop, pipeline
) -> None:  # type: ignore[no-untyped-def]
    # given: odd messages on the product topic, then a good event
    prefix, index, producer = pipeline
    envelope = product_envelope(str(uuid.uuid4()), 1, 10**12, "ProductCreated", {})
    odd = {
        "a-list": b"[1, 2]",
        "deep": b"[" * 50_000 + b"]" * 50_000,
        "text-position": json.dumps({**envelope, "position": "12"}).encode(),
        "not-utf8": b"\xff\xfe",
    }
    raw = KafkaProducer(bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS)
    for key, value in odd.items():
        raw.send(topic_name(prefix, "Product"), key=key.encode(), value=value).get(timeout=10)
    raw.close()
    [good] = create_products(shop_app, 1, name="AfterOdd")
    run_relay_until(Relay(shop_app, producer, prefix), shop_app.recorder.max_notification_id())
    # when
    with running(catalog_runner(prefix, index)):
        assert eventually(lambda: ProductView.objects.filter(id=good).exists())
    # then
    parked = {p.aggregate_id: p for p in ParkedEvent.objects.filter(aggregate_id__in=odd)}
    assert sorted(parked) == sorted(odd)
    assert all(p.error.startswith("unreadable envelope") for p in parked.values())
    assert all((p.position, p.status) == (None, "parked") for p in parked.values())
    assert parked["a-list"].envelope == {"unreadable": "[1, 2]"}
