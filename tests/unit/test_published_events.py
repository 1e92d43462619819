from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate

from contracts.event_types import ACCOUNT_CREATED, EVENT_TYPES
from tests.support.shop_data import create_product
from write_api.application import Shop
from write_api.domain import account, cart, category, escalation, order, product, review
from write_api.domain.metadata import CommandContext
from write_api.domain.order import Order
from write_api.published_events import (
    AGGREGATE_TYPES,
    AGGREGATES,
    ENVELOPE_KEYS,
    NEVER_RECORDED,
    OPTIONAL_ENVELOPE_KEYS,
    ORDER_EVENT_TYPES,
    PUBLISHED_TYPES,
    event_id,
    to_envelope,
    topic_name,
)

SELLER = UUID("00000000-0000-0000-0000-0000000000aa")


def test_to_envelope_describes_a_product_created_event_in_the_published_shape() -> None:
    # given
    shop = Shop(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    context = CommandContext(
        actor_id=str(SELLER),
        actor_role="seller",
        request_id="req-1",
        correlation_id="cor-1",
        causation_id="req-1",
    )
    saved = create_product(
        shop,
        name="Lamp",
        description="Bright",
        price=Decimal("19.90"),
        stock=4,
        seller_id=SELLER,
        context=context,
    )
    [created] = shop.events.get(saved.id)
    # when
    envelope = to_envelope(created, position=7)
    # then
    assert set(envelope) >= ENVELOPE_KEYS
    assert envelope["event_id"] == event_id(saved.id, 1)
    assert envelope["position"] == 7
    assert (envelope["aggregate_type"], envelope["type"], envelope["version"]) == (
        "Product",
        "ProductCreated",
        1,
    )
    assert envelope["aggregate_id"] == str(saved.id)
    assert envelope["actor"] == {"id": str(SELLER), "role": "seller"}
    assert (envelope["request_id"], envelope["correlation_id"], envelope["causation_id"]) == (
        "req-1",
        "cor-1",
        "req-1",
    )
    assert envelope["occurred_at"] == created.timestamp.isoformat()
    assert envelope["data"] == {
        "name": "Lamp",
        "description": "Bright",
        "price": "19.90",
        "category_id": None,
        "stock": 4,
        "seller_id": str(SELLER),
    }


def test_event_id_is_the_same_every_time_an_event_is_republished() -> None:
    aggregate = UUID("11111111-1111-1111-1111-111111111111")
    assert event_id(aggregate, 3) == event_id(str(aggregate), 3)
    assert event_id(aggregate, 3) != event_id(aggregate, 4)


def test_topic_name_is_prefixed_and_per_aggregate_type() -> None:
    assert topic_name("shopstream.", "Product") == "shopstream.product.events"


def test_every_event_the_order_records_is_a_registered_published_type() -> None:
    # given: the event classes the Order aggregate defines (Created is never recorded)
    defined = {
        f"Order{name}"
        for name, value in vars(Order).items()
        if isinstance(value, type) and issubclass(value, Aggregate.Event)
    } - {"OrderCreated", "OrderEvent"}
    # then: a new Order event is registered (and so checked against every projector)
    assert defined == ORDER_EVENT_TYPES


def test_every_domain_event_class_is_published_under_a_declared_type_name() -> None:
    # given: every event class each aggregate defines, but its base and those never recorded
    defined = {
        value
        for aggregate in AGGREGATES
        for value in vars(aggregate).values()
        if isinstance(value, type)
        and issubclass(value, aggregate.Event)
        and value is not aggregate.Event
    } - NEVER_RECORDED
    # then: each has a name, every declared name is used, and the names on the wire are the
    # ones readers have always seen (aggregate type + event class name)
    assert set(PUBLISHED_TYPES) == defined
    assert set(PUBLISHED_TYPES.values()) == EVENT_TYPES
    assert {
        event: event.__qualname__.replace(".", "", 1) for event in PUBLISHED_TYPES
    } == PUBLISHED_TYPES


def test_every_aggregate_of_the_domain_is_published_on_its_own_topic() -> None:
    # given: the Aggregate classes the domain modules define
    modules = [account, cart, category, escalation, order, product, review]
    defined = {
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Aggregate)
        and value.__module__ == module.__name__
    }
    # then
    assert set(AGGREGATES) == defined
    assert [a.__name__ for a in AGGREGATES] == list(AGGREGATE_TYPES)


def test_an_envelope_has_exactly_the_declared_keys() -> None:
    # given
    shop = Shop(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    saved = shop.register_account(
        user_id=SELLER, email="s@example.com", role="seller", context=CommandContext()
    )
    [created] = shop.events.get(saved.id)
    # when
    envelope = to_envelope(created, position=1)
    # then
    assert set(envelope) == ENVELOPE_KEYS | OPTIONAL_ENVELOPE_KEYS
    assert envelope["type"] == ACCOUNT_CREATED
