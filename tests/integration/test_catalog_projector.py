"""The catalog projector on a real consumer group: rows, index, checkpoints, parked messages."""

from __future__ import annotations

import json
from decimal import Decimal
from uuid import UUID

import pytest
from django.conf import settings
from django.test import Client
from kafka import KafkaProducer, TopicPartition

from adapters.clients import kafka_admin, kafka_consumer, kafka_producer, opensearch_client
from projections.catalog.models import CategoryView, ProductView
from projections.catalog.projector import CatalogProjector
from projections.catalog.search_index import SearchIndex
from projections.consumer import ProjectionRunner
from projections.models import ParkedEvent, ProjectionCheckpoint, RelayCheckpoint
from projections.relay import Relay
from projections.topics import ensure_topics
from tests.support.pipeline import envelopes, read_topic, run_relay_until, run_until
from tests.support.shop_data import create_product, create_products
from write_api.application import Shop
from write_api.domain.metadata import CommandContext
from write_api.published_events import topic_name

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("infra.urls.read_api"),
]


@pytest.fixture
def pipeline(shop_app: Shop, isolated_namespace: str):
    """Topics, an index alias and a relay of this test's own namespace."""
    prefix = settings.TOPIC_PREFIX
    admin = kafka_admin()
    ensure_topics(admin, prefix, partitions=2)
    admin.close()
    index = SearchIndex(opensearch_client(), isolated_namespace)
    index.ensure()
    producer = kafka_producer()
    yield prefix, index, producer
    producer.close()
    for name in index.client.indices.get(index=f"{index.alias}_v*", ignore_unavailable=True):
        index.client.indices.delete(index=name)


def projector_runner(prefix: str, index: SearchIndex, producer: object) -> ProjectionRunner:
    projector = CatalogProjector(index)
    consumer = kafka_consumer(f"{prefix}catalog", ProjectionRunner.topics(projector, prefix))
    return ProjectionRunner(projector, consumer, prefix)


def project_until(runner: ProjectionRunner, done) -> None:  # type: ignore[no-untyped-def]
    try:
        assert run_until(runner.run, done, timeout=30)
    finally:
        runner.consumer.close()


def documents(index: SearchIndex, ids: list[UUID]) -> dict[str, dict]:
    index.refresh()
    found = index.client.mget(index=index.alias, body={"ids": [str(i) for i in ids]})
    return {
        d["_id"]: {**d["_source"], "_version": d["_version"]} for d in found["docs"] if d["found"]
    }


def test_projector_writes_rows_documents_and_checkpoints(shop_app: Shop, pipeline) -> None:  # type: ignore[no-untyped-def]
    # given
    prefix, index, producer = pipeline
    ids = create_products(shop_app, 12, name="Projected")
    run_relay_until(Relay(shop_app, producer, prefix), shop_app.recorder.max_notification_id())
    runner = projector_runner(prefix, index, producer)
    # when
    project_until(runner, lambda: ProductView.objects.filter(id__in=ids).count() == 12)
    # then
    rows = {str(r.id): r for r in ProductView.objects.filter(id__in=ids)}
    assert sorted(r.name for r in rows.values()) == sorted(f"Projected {i}" for i in range(12))
    assert all(
        (r.version, r.stock_available, str(r.price)) == (1, 1, "1.00") for r in rows.values()
    )
    docs = documents(index, ids)
    assert set(docs) == {str(i) for i in ids}
    assert all(d["_version"] == 1 and d["name"] == rows[i].name for i, d in docs.items())
    checkpoints = ProjectionCheckpoint.objects.filter(projector=f"{prefix}catalog")
    assert max(c.position for c in checkpoints) == shop_app.recorder.max_notification_id()


def test_projector_skips_redelivered_events_after_a_republish(shop_app: Shop, pipeline) -> None:  # type: ignore[no-untyped-def]
    # given: everything was projected once
    prefix, index, producer = pipeline
    ids = create_products(shop_app, 5, name="Twice")
    head = shop_app.recorder.max_notification_id()
    project_everything(shop_app, prefix, index, producer)
    before = {(str(r.id), r.version, r.updated_at) for r in ProductView.objects.filter(id__in=ids)}
    checkpoints = dict(
        ProjectionCheckpoint.objects.filter(projector=f"{prefix}catalog").values_list(
            "partition", "position"
        )
    )
    # when: the relay forgets its position and publishes the whole log again
    RelayCheckpoint.objects.filter(name=f"{prefix}relay").update(position=0)
    run_relay_until(Relay(shop_app, producer, prefix), head)
    published = read_topic(topic_name(prefix, "Product"), expected=2 * head)
    project_until(
        projector_runner(prefix, index, producer),
        lambda: _committed(prefix) >= len(published),
    )
    # then: the duplicates changed nothing, and no checkpoint went back
    assert len(published) >= 2 * len({e["position"] for e in envelopes(published)}) - 1
    after = {(str(r.id), r.version, r.updated_at) for r in ProductView.objects.filter(id__in=ids)}
    assert after == before
    now = dict(
        ProjectionCheckpoint.objects.filter(projector=f"{prefix}catalog").values_list(
            "partition", "position"
        )
    )
    assert all(now[partition] >= position for partition, position in checkpoints.items())


def test_an_unreadable_message_is_parked_and_the_stream_goes_on(
    shop_app: Shop,
    pipeline,  # type: ignore[no-untyped-def]
) -> None:
    # given: a poison message, then a good event, on the product topic
    prefix, index, producer = pipeline
    raw = KafkaProducer(bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS)
    raw.send(topic_name(prefix, "Product"), key=b"poison", value=b"{not json").get(timeout=10)
    raw.close()
    [good] = create_products(shop_app, 1, name="AfterPoison")
    run_relay_until(Relay(shop_app, producer, prefix), shop_app.recorder.max_notification_id())
    # when
    project_until(
        projector_runner(prefix, index, producer),
        lambda: ProductView.objects.filter(id=good).exists(),
    )
    # then
    [parked] = ParkedEvent.objects.filter(projector="catalog", aggregate_id="poison")
    assert (parked.status, parked.position, parked.envelope) == (
        "parked",
        None,
        {"unreadable": "{not json"},
    )
    assert parked.error.startswith("unreadable envelope")


def _committed(prefix: str) -> int:
    consumer = kafka_consumer(f"{prefix}catalog", [])
    try:
        topic = topic_name(prefix, "Product")
        partitions = consumer.partitions_for_topic(topic) or set()
        return sum(consumer.committed(TopicPartition(topic, p)) or 0 for p in partitions)
    finally:
        consumer.close()


def test_category_changes_reach_rows_documents_and_the_cached_tree(
    shop_app: Shop,
    pipeline,  # type: ignore[no-untyped-def]
) -> None:
    # given: a product in Home/Kitchen, projected, and the tree served once (cached)
    prefix, index, producer = pipeline
    ctx = CommandContext()
    home, _ = shop_app.add_category(name=f"Home {prefix}", parent_id=None, context=ctx)
    kitchen, _ = shop_app.add_category(name="Kitchen", parent_id=home, context=ctx)
    garden, _ = shop_app.add_category(name=f"Garden {prefix}", parent_id=None, context=ctx)
    product = create_product(
        shop_app,
        name="Kettle",
        description="",
        price=Decimal("20.00"),
        category_id=kitchen,
        stock=1,
        seller_id=None,
        context=ctx,
    ).id
    project_everything(shop_app, prefix, index, producer)
    client = Client(SERVER_NAME="localhost")
    before = client.get("/api/v1/categories").json()
    # when: Kitchen moves under Garden and is renamed
    shop_app.change_category(kitchen, name="Cooking", parent_id=garden, context=ctx)
    project_everything(shop_app, prefix, index, producer)
    # then: rows, the product document and the served tree follow
    row = CategoryView.objects.get(id=kitchen)
    assert (row.path, row.path_ids, row.depth) == (
        f"Garden {prefix}/Cooking",
        [str(garden), str(kitchen)],
        1,
    )
    [document] = documents(index, [product]).values()
    assert document["category_path"] == [str(garden), str(kitchen)]
    assert document["category_names"] == [f"Garden {prefix}", "Cooking"]
    assert _find(before, str(kitchen))["path"] == f"Home {prefix}/Kitchen"
    after = client.get("/api/v1/categories").json()
    assert _find(after, str(kitchen))["path"] == f"Garden {prefix}/Cooking"
    assert [c["id"] for c in _find(after, str(garden))["children"]] == [str(kitchen)]
    detail = client.get(f"/api/v1/products/{product}").json()
    assert detail["category"] == {
        "id": str(kitchen),
        "name": "Cooking",
        "path": f"Garden {prefix}/Cooking",
    }


def test_product_lifecycle_reaches_the_read_row_and_search(shop_app: Shop, pipeline) -> None:  # type: ignore[no-untyped-def]
    # given
    prefix, index, producer = pipeline
    ctx = CommandContext()
    product = create_product(
        shop_app,
        name=f"Lantern {prefix}",
        description="",
        price=Decimal("15.00"),
        stock=4,
        seller_id=None,
        context=ctx,
    ).id
    # when
    shop_app.change_product(
        product, name=f"Storm lantern {prefix}", price=Decimal("17.25"), context=ctx
    )
    shop_app.adjust_stock(product, delta=-1, context=ctx)
    project_everything(shop_app, prefix, index, producer)
    client = Client(SERVER_NAME="localhost")
    found = client.get("/api/v1/products", {"search": f"storm {prefix}"}).json()
    shop_app.discontinue_product(product, context=ctx)
    project_everything(shop_app, prefix, index, producer)
    # then
    assert [p["id"] for p in found["results"]] == [str(product)]
    assert (found["results"][0]["price"], found["results"][0]["stock_available"]) == ("17.25", 3)
    row = ProductView.objects.get(id=product)
    assert (row.version, row.discontinued, str(row.price), row.stock) == (5, True, "17.25", 3)
    gone = client.get("/api/v1/products", {"search": f"storm {prefix}"}).json()
    assert gone["count"] == 0
    assert client.get(f"/api/v1/products/{product}").status_code == 404


STORED_TOPIC = {"Product": "shopstream.product.", "CategoryTree": "shopstream.category_tree."}


def project_everything(shop_app: Shop, prefix: str, index: SearchIndex, producer: object) -> None:
    """Publish the log, then project until each partition's checkpoint holds its last event."""
    head = shop_app.recorder.max_notification_id()
    run_relay_until(Relay(shop_app, producer, prefix), head)  # type: ignore[arg-type]
    stored = shop_app.recorder.select_notifications(start=0, limit=100_000)
    targets: dict[str, int] = {}
    for aggregate_type, stored_topic in STORED_TOPIC.items():
        topic = topic_name(prefix, aggregate_type)
        expected = sum(n.topic.startswith(stored_topic) for n in stored)
        for record in read_topic(topic, expected=expected):
            key = f"{topic}:{record.partition}"
            targets[key] = max(targets.get(key, 0), json.loads(record.value)["position"])
    project_until(projector_runner(prefix, index, producer), lambda: _projected_to(prefix, targets))


def _projected_to(prefix: str, targets: dict[str, int]) -> bool:
    checkpoints = dict(
        ProjectionCheckpoint.objects.filter(projector=f"{prefix}catalog").values_list(
            "partition", "position"
        )
    )
    return all(checkpoints.get(key, 0) >= position for key, position in targets.items())


def _find(tree: list[dict], category_id: str) -> dict:
    for node in tree:
        if node["id"] == category_id:
            return node
        found = _find(node["children"], category_id)
        if found:
            return found
    return {}
