"""Reviews by buyers, and the purchase history that proves a customer bought a product."""

from __future__ import annotations

import uuid
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from write_api.domain.account import clean_display_name
from write_api.domain.errors import ValidationFailed
from write_api.domain.limits import COMMENT_MAX, RATING_MAX, RATING_MIN, text_errors
from write_api.domain.metadata import CommandContext

REVIEW_NAMESPACE = uuid.UUID("4d3c2b1a-8f7e-4a5b-9c6d-0e1f2a3b4c5d")
PURCHASES_NAMESPACE = uuid.UUID("b7e1c9a0-2d4f-4e6a-8b1c-3f5d7e9a0b2c")
# Shown for a reviewer who chose no display name: never their email or account id.
ANONYMOUS_REVIEWER = "Verified buyer"


def reviewer_label(display_name: str) -> str:
    """How a review names its author in public (a name the read model can hold)."""
    return clean_display_name(display_name) or ANONYMOUS_REVIEWER


def review_id(customer_id: UUID, product_id: UUID) -> UUID:
    """One review per customer and product: a second one collides on this id."""
    return uuid.uuid5(REVIEW_NAMESPACE, f"{customer_id}:{product_id}")


def purchases_id(customer_id: UUID) -> UUID:
    return uuid.uuid5(PURCHASES_NAMESPACE, str(customer_id))


class Review(Aggregate):
    """A buyer's rating (1..5) and comment on a product."""

    TOPIC = "shopstream.review"

    @staticmethod
    def create_id(customer_id: UUID, product_id: UUID, **_: object) -> UUID:
        return review_id(customer_id, product_id)

    @classmethod
    def write(
        cls,
        *,
        customer_id: UUID,
        product_id: UUID,
        rating: int,
        comment: str,
        reviewer_name: str,
        context: CommandContext,
    ) -> Review:
        """`reviewer_name` is the buyer's display name now: the review keeps it as written."""
        errors: dict[str, list[str]] = {}
        if not RATING_MIN <= rating <= RATING_MAX:
            errors["rating"] = [f"Must be {RATING_MIN} to {RATING_MAX}."]
        if found := text_errors(comment, max_length=COMMENT_MAX, multiline=True):
            errors["comment"] = found
        if errors:
            raise ValidationFailed("The review is invalid.", errors)
        created: Review = cls(
            customer_id=customer_id,
            product_id=product_id,
            rating=rating,
            comment=comment,
            reviewer_name=reviewer_label(reviewer_name),
            metadata=context.as_event_metadata(),
        )
        return created

    @event("Created", topic="shopstream.review.Created")
    def __init__(
        self,
        *,
        customer_id: UUID,
        product_id: UUID,
        rating: int,
        comment: str,
        metadata: dict[str, str | None],
        reviewer_name: str = ANONYMOUS_REVIEWER,  # absent from events stored before names
    ) -> None:
        self.customer_id = customer_id
        self.product_id = product_id
        self.rating = rating
        self.comment = comment
        self.reviewer_name = reviewer_name


class Purchases(Aggregate):
    """The products a customer has paid for (what entitles them to review)."""

    TOPIC = "shopstream.purchases"
    # The shape of this class's state in snapshots: raise it whenever an attribute is added,
    # dropped or changes type, so snapshots of the old shape are ignored (write_api/snapshots.py).
    class_version = 1

    @staticmethod
    def create_id(customer_id: UUID, **_: object) -> UUID:
        return purchases_id(customer_id)

    @event("Created", topic="shopstream.purchases.Created")
    def __init__(self, *, customer_id: UUID) -> None:
        self.customer_id = customer_id
        self.products: set[UUID] = set()

    def record(self, *, order_id: UUID, product_ids: list[UUID], context: CommandContext) -> None:
        self._recorded(
            order_id=order_id, product_ids=product_ids, metadata=context.as_event_metadata()
        )

    @event("OrderPaid", topic="shopstream.purchases.OrderPaid")
    def _recorded(
        self, *, order_id: UUID, product_ids: list[UUID], metadata: dict[str, str | None]
    ) -> None:
        self.products.update(product_ids)

    def has_bought(self, product_id: UUID) -> bool:
        return product_id in self.products
