"""Time travel over a long product history folds from state checkpoints, and answers exactly
as a fold from the product's first event does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from django.test import override_settings

from projections.audit import product_checkpoints
from projections.audit.models import AuditEvent, ProductStateCheckpoint
from projections.audit.product_checkpoints import decode, envelope_of
from projections.audit.projector import AuditProjector
from projections.catalog.product_state import State, evolve
from read_api.cursor import Cursor
from tests.integration.test_product_history import as_of, read
from tests.support.actors import Actor
from tests.support.shop_data import CONTEXT, create_product
from write_api.application import Shop
from write_api.published_events import to_envelope

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
EVERY = 10  # versions between two checkpoints here (100 in production)
EVENTS = 45  # after ProductCreated: over four checkpoints' worth


@pytest.fixture(autouse=True)
def small_checkpoint_interval() -> Iterator[None]:
    with override_settings(AUDIT_CHECKPOINT_EVERY=EVERY):
        yield


def long_history(shop_app: Shop, seller: Actor) -> tuple[str, list[dict[str, Any]]]:
    """A product and its events: checkouts reserve 2, payments sell them, repricings between."""
    start = shop_app.recorder.max_notification_id() or 0
    product_id = create_product(shop_app, seller_id=seller.user.id, stock=500).id  # type: ignore[union-attr]
    order = uuid4()
    for step in range(EVENTS):
        product = shop_app.get_product(product_id)
        if step % 3 == 0:
            order = uuid4()
            product.reserve(order_id=order, quantity=2, context=CONTEXT)
        elif step % 3 == 1:
            product.sell(order_id=order, context=CONTEXT)
        else:
            product.reprice(price=Decimal("10.00") + Decimal(step) / 100, context=CONTEXT)
        shop_app.save(product)
    return str(product_id), envelopes_of(shop_app, product_id, start)


def envelopes_of(shop_app: Shop, product_id: UUID, start: int) -> list[dict[str, Any]]:
    notifications = shop_app.recorder.select_notifications(
        start=start, limit=100_000, inclusive_of_start=False
    )
    found = [to_envelope(shop_app.mapper.to_domain_event(n), n.id) for n in notifications]
    return [e for e in found if e["aggregate_id"] == str(product_id)]


def project_in_batches(envelopes: list[dict[str, Any]], size: int = 7) -> None:
    """As the consumer does: batches that end anywhere, checkpoints falling due inside them."""
    for start in range(0, len(envelopes), size):
        AuditProjector().apply(envelopes[start : start + size])


def full_fold(product_id: str) -> list[tuple[AuditEvent, State]]:
    """Every audit row of the product with the state after it, folded from the first."""
    state: State | None = None
    folded = []
    for event in AuditEvent.objects.filter(aggregate_id=product_id).order_by("version"):
        state = evolve(state, envelope_of(event))
        assert state is not None
        folded.append((event, state))
    return folded


def expected_checkpoints(product_id: str) -> list[tuple[int, int, datetime, State]]:
    """Where a checkpoint belongs: the first row at least EVERY versions after the last."""
    wanted, last = [], 0
    for rows, (event, state) in enumerate(full_fold(product_id), start=1):
        if event.version >= last + EVERY:
            wanted.append((event.version, rows, event.occurred_at, state))
            last = event.version
    return wanted


def checkpoints(product_id: str) -> list[tuple[int, int, datetime, State]]:
    stored = ProductStateCheckpoint.objects.filter(product_id=product_id).order_by("version")
    return [(c.version, c.rows, c.occurred_at, decode(c.state)) for c in stored]


def without_checkpoints(product_id: str, ask: Any) -> Any:
    """`ask()` answered by a fold from the first event (the path of a history without any)."""
    ProductStateCheckpoint.objects.filter(product_id=product_id).delete()
    return ask()


def test_the_audit_projector_checkpoints_the_exact_state_every_so_many_versions(
    shop_app: Shop, seller: Actor
) -> None:
    # given
    product_id, envelopes = long_history(shop_app, seller)
    # when
    project_in_batches(envelopes)
    # then
    stored = checkpoints(product_id)
    assert [(version, rows) for version, rows, _, _ in stored] == [(v, v) for v in (10, 20, 30, 40)]
    assert stored == expected_checkpoints(product_id)
    assert isinstance(stored[0][3]["created_at"], datetime)


def test_checkpoints_survive_redelivery_and_are_rebuilt_after_a_row_that_lands_late(
    shop_app: Shop, seller: Actor
) -> None:
    # given: the history projected without version 15, then everything again
    product_id, envelopes = long_history(shop_app, seller)
    late = next(e for e in envelopes if e["version"] == 15)
    project_in_batches([e for e in envelopes if e is not late])
    skipping = checkpoints(product_id)
    # when
    project_in_batches(envelopes, size=50)
    # then
    assert [rows for _, rows, _, _ in skipping] == [10, 19, 29, 39]
    assert checkpoints(product_id) == expected_checkpoints(product_id)
    assert [version for version, _, _, _ in checkpoints(product_id)] == [10, 20, 30, 40]


def test_a_history_older_than_the_checkpoints_gets_them_with_its_next_event(
    shop_app: Shop, seller: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a product projected before checkpoints existed (all but its last event)
    product_id, envelopes = long_history(shop_app, seller)
    project_in_batches(envelopes[:-1])
    ProductStateCheckpoint.objects.filter(product_id=product_id).delete()
    monkeypatch.setattr(product_checkpoints, "FOLD_CHUNK", 7)
    # when
    project_in_batches(envelopes[-1:])
    # then
    assert checkpoints(product_id) == expected_checkpoints(product_id)
    assert len(checkpoints(product_id)) == 4


def test_as_of_at_any_time_equals_a_fold_from_the_first_event(
    shop_app: Shop, seller: Actor
) -> None:
    # given
    product_id, envelopes = long_history(shop_app, seller)
    project_in_batches(envelopes)
    folded = full_fold(product_id)
    at = [event.occurred_at for event, _ in folded]
    tick = timedelta(microseconds=1)
    times = [at[0], at[8], at[9] - tick, at[9], at[10], at[24], at[39], at[40] - tick, at[-1]]
    times.append(datetime.now(UTC) + timedelta(days=1))
    # when
    answers = [as_of(product_id, when).json() for when in times]
    # then
    assert answers == without_checkpoints(
        product_id, lambda: [as_of(product_id, when).json() for when in times]
    )
    for when, answer in zip(times, answers, strict=True):
        event, state = [(e, s) for e, s in folded if e.occurred_at <= when][-1]
        assert (answer["version"], answer["price"]) == (event.version, state["price"])
        assert answer["stock_available"] == state["stock"] - state["reserved"]


def test_history_pages_and_cursors_across_checkpoints_equal_a_fold_from_the_first_event(
    shop_app: Shop, seller: Actor, admin: Actor
) -> None:
    # given: 46 entries, pages of 7
    product_id, envelopes = long_history(shop_app, seller)
    project_in_batches(envelopes)
    path = f"/api/v2/products/{product_id}/history"
    asks = [
        {"page_size": 7},  # first page
        {"page_size": 7, "page": 3},  # versions 15-21, across the checkpoint at 20
        {"page_size": 7, "page": 7},  # last page
        {"page_size": 7, "page": 8},  # past the end
        {"page_size": 5, "cursor": Cursor([18]).encode()},  # 19-23
        {"page_size": 5, "cursor": Cursor([31], backwards=True).encode()},  # 26-30
        {"page_size": 5, "cursor": Cursor([44]).encode()},  # 45-46, the last
    ]

    def answers() -> list[Any]:
        return [read(admin, path, ask).json() for ask in asks]

    # when
    found = answers()
    # then
    assert found == without_checkpoints(product_id, answers)
    versions = [[e["version"] for e in answer["results"]] for answer in found]
    assert versions == [
        [1, 2, 3, 4, 5, 6, 7],
        [15, 16, 17, 18, 19, 20, 21],
        [43, 44, 45, 46],
        [],
        [19, 20, 21, 22, 23],
        [26, 27, 28, 29, 30],
        [45, 46],
    ]
    assert {answer.get("count") for answer in found[:4]} == {46}
    states = {event.version: state for event, state in full_fold(product_id)}
    for entry in found[1]["results"] + found[5]["results"]:
        before, after = shown(states[entry["version"] - 1]), shown(states[entry["version"]])
        assert entry["changes"]
        for field, change in entry["changes"].items():
            assert change == {"from": before[field], "to": after[field]}


def shown(state: State) -> dict[str, Any]:
    return {**state, "stock_available": state["stock"] - state["reserved"]}


def test_reads_past_a_checkpoint_fold_from_it_not_from_the_first_event(
    shop_app: Shop, seller: Actor, admin: Actor
) -> None:
    # given: the checkpoint at version 20 marked (a name and price no event ever gave)
    product_id, envelopes = long_history(shop_app, seller)
    project_in_batches(envelopes)
    at = [event.occurred_at for event, _ in full_fold(product_id)]
    marked = ProductStateCheckpoint.objects.get(product_id=product_id, version=20)
    marked.state = {**marked.state, "name": "From the checkpoint", "price": "99.99"}
    marked.save()
    path = f"/api/v2/products/{product_id}/history"
    # when
    names = [as_of(product_id, at[v - 1]).json()["name"] for v in (19, 20, 29, 30)]
    pages = [read(admin, path, {"page_size": 7, "page": n}).json()["results"] for n in (3, 4)]
    # then: what the checkpoint covers comes from it; the next one takes over at 30
    assert names == ["Blue mug", "From the checkpoint", "From the checkpoint", "Blue mug"]
    assert [(e["version"], e["type"]) for e in pages[1][:1]] == [(22, "ProductRepriced")]
    assert pages[1][0]["changes"]["price"] == {"from": "99.99", "to": "10.20"}
    assert "99.99" not in str(pages[0])  # versions 15-21 fold from the checkpoint at 10
