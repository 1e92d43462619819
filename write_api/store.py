"""The base every group of use cases builds on: loading aggregates and saving a decision.

A command loads what it needs, decides (the domain raises or records events) and saves every
aggregate it changed in one transaction. A lost optimistic-concurrency race is retried a few
times with a jittered back-off; then the caller gets ConcurrentChange.

Aggregates whose streams grow with the shop's life (a product's sales, a customer's carts and
purchases, the category tree) are snapshotted every SNAPSHOT_INTERVAL events, so that a load
reads one snapshot and fewer than SNAPSHOT_INTERVAL events whatever the history
(write_api/snapshots.py).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar, cast
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError, Application, ProjectorFunction
from eventsourcing.domain import Aggregate, CanMutateProtocol, DomainEventProtocol
from eventsourcing.persistence import (
    EventStore,
    JSONTranscoder,
    PersistenceError,
    RecordConflictError,
)

from contracts.schemas import SHOP_CURRENCY
from write_api.domain.account import Account
from write_api.domain.cart import Cart, cart_id
from write_api.domain.category import TREE_ID, CategoryTree
from write_api.domain.errors import ConcurrentChange, NotFound
from write_api.domain.order import Order
from write_api.domain.product import Product
from write_api.domain.review import Purchases, purchases_id
from write_api.results import Saved
from write_api.snapshots import (
    CurrentShapeSnapshots,
    StampedSnapshot,
    register_snapshot_transcodings,
)

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")
ATTEMPTS = 8
# Events a load replays at most after the newest snapshot: replaying one costs about as much
# as a twentieth of taking a snapshot (a reload and an insert, after the command's commit).
SNAPSHOT_INTERVAL = 20
SNAPSHOTTED = (Product, Cart, CategoryTree, Purchases)

log = structlog.get_logger("shopstream.snapshots")


def replay(aggregate: Any, events: Iterable[DomainEventProtocol[UUID]]) -> Any:
    """The library's project_aggregate without its assert: a runtime Protocol isinstance
    check per replayed event (5% of an add-to-cart in a profile). Every stored event and
    snapshot of this shop is a library event class with a mutate method."""
    for event in events:
        aggregate = cast("CanMutateProtocol[Any]", event).mutate(aggregate)
    return aggregate


@dataclass(frozen=True)
class Decision(Generic[R]):
    """What a change decided: its result, and the other aggregates it changed on the way."""

    result: R
    also_changed: Sequence[Aggregate] = ()


class ShopStore(Application[UUID]):
    """Loads of each aggregate kind, and the one load-decide-save loop every command uses."""

    snapshotting_intervals: ClassVar[dict[type[Any], int]] = dict.fromkeys(
        SNAPSHOTTED, SNAPSHOT_INTERVAL
    )
    snapshotting_projectors: ClassVar[dict[type[Any], ProjectorFunction[Any, Any]]] = dict.fromkeys(
        SNAPSHOTTED, replay
    )

    @property
    def currency(self) -> str:
        """The currency (ISO 4217) new orders are placed in: the env's SHOP_CURRENCY
        (event_store_env sets it from the settings' CURRENCY), else SHOPSTREAM_CURRENCY's.
        An order is paid and refunded in the one it recorded, not this."""
        return self.env.get("SHOP_CURRENCY") or SHOP_CURRENCY

    # -- loads ------------------------------------------------------------------
    def get_product(self, product_id: UUID) -> Product:
        return self._get(product_id, Product, "Product")

    def get_order(self, order_id: UUID) -> Order:
        return self._get(order_id, Order, "Order")

    def get_account(self, user_id: UUID) -> Account:
        return self._get(user_id, Account, "Account")

    def cart_of(self, customer_id: UUID) -> Cart:
        """The customer's cart, new and empty if they never had one."""
        return self._get_or_new(cart_id(customer_id), Cart, lambda: Cart(customer_id=customer_id))

    def purchases_of(self, customer_id: UUID) -> Purchases:
        return self._get_or_new(
            purchases_id(customer_id), Purchases, lambda: Purchases(customer_id=customer_id)
        )

    def category_tree(self) -> CategoryTree:
        return self._tree_or_new(TREE_ID)

    def _tree_or_new(self, tree_id: UUID) -> CategoryTree:
        return self._get_or_new(tree_id, CategoryTree, CategoryTree)

    def _get(self, aggregate_id: UUID, kind: type[A], label: str) -> A:
        aggregate: object = self._load(aggregate_id, kind)
        if not isinstance(aggregate, kind):
            raise NotFound(f"{label} {aggregate_id} does not exist.")
        return aggregate

    def _load(self, aggregate_id: UUID, kind: type[A]) -> object:
        """From the newest snapshot on for kinds that have them; orders, accounts and reviews
        live a handful of events, so their loads skip the snapshot lookup."""
        if kind in self.snapshotting_intervals and self.snapshots is not None:
            try:
                return self.repository.get(aggregate_id, projector_func=replay)
            except AggregateNotFoundError:
                return None
        return replay(None, self.events.get(aggregate_id))

    def _get_or_new(self, aggregate_id: UUID, kind: type[A], new: Callable[[], A]) -> A:
        try:
            return self._get(aggregate_id, kind, kind.__name__)
        except NotFound:
            return new()

    # -- snapshots --------------------------------------------------------------
    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_snapshot_transcodings(transcoder)

    def construct_snapshot_store(self) -> EventStore[UUID]:
        return CurrentShapeSnapshots(
            mapper=self.mapper, recorder=self.factory.aggregate_recorder(purpose="snapshots")
        )

    def take_snapshot(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = replay,
    ) -> None:
        """The library's, stamped with the aggregate's shape. The library takes it after the
        command committed: failing to store an optional snapshot must not fail the command
        (nor make `_retrying` run it again), so a conflict or a database error is let go."""
        assert self.snapshots is not None
        try:
            aggregate = self.repository.get(
                aggregate_id, version=version, projector_func=projector_func
            )
            self.snapshots.put([StampedSnapshot.take(aggregate)])
        except RecordConflictError:
            pass  # this very version is snapshotted already: the same state
        except PersistenceError as error:
            log.warning("snapshot_not_stored", aggregate_id=str(aggregate_id), error=str(error))

    # -- saving -----------------------------------------------------------------
    def _update(
        self, load: Callable[[UUID], A], aggregate_id: UUID, change: Callable[[A], object]
    ) -> Saved:
        """Load one aggregate, change it, save it; what `change` returns is not kept."""
        saved, _ = self._decide(load, aggregate_id, lambda aggregate: Decision(change(aggregate)))
        return saved

    def _decide(
        self,
        load: Callable[[UUID], A],
        aggregate_id: UUID,
        decide: Callable[[A], Decision[R]],
    ) -> tuple[Saved, R]:
        """Load one aggregate, decide, and save it with every other aggregate the decision
        changed, in one transaction; the aggregate's new version and the decision's result."""

        def attempt() -> tuple[Sequence[Aggregate], tuple[Saved, R]]:
            aggregate = load(aggregate_id)
            decision = decide(aggregate)
            saved: list[Aggregate] = [aggregate, *decision.also_changed]
            return saved, (Saved(aggregate.id, aggregate.version), decision.result)

        return self._retrying(attempt)

    def _retrying(
        self,
        attempt: Callable[[], tuple[Sequence[Aggregate], R]],
        save_options: Callable[[R], Mapping[str, Any]] | None = None,
    ) -> R:
        """Run `attempt` (load and decide) and save what it changed; on a lost race, again.

        `save_options(result)` adds keyword arguments to the save (rows stored with the events).
        """
        for number in range(1, ATTEMPTS + 1):
            changed, result = attempt()
            try:
                self.save(*changed, **(save_options(result) if save_options else {}))
            except RecordConflictError:
                self._back_off(number)
                continue
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _back_off(attempt: int) -> None:
        """Jittered sleep after a lost race, so racing writers stop colliding in lockstep."""
        if attempt >= ATTEMPTS:
            raise ConcurrentChange("The resource changed concurrently too often; try again.")
        time.sleep(random.uniform(0, 0.005 * attempt))  # noqa: S311 - not security
