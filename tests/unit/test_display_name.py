"""Reviews name their author by a display name chosen at sign-up, never by an account id."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from projections.catalog import models as read_models
from read_api.selectors import review_body
from write_api.application import Shop
from write_api.domain.account import clean_display_name
from write_api.domain.errors import ValidationFailed
from write_api.domain.limits import DISPLAY_NAME_MAX
from write_api.domain.metadata import CommandContext
from write_api.domain.review import ANONYMOUS_REVIEWER, Review

CONTEXT = CommandContext(actor_role="customer")


def write(reviewer_name: str) -> Review:
    return Review.write(
        customer_id=uuid4(),
        product_id=uuid4(),
        rating=5,
        comment="",
        reviewer_name=reviewer_name,
        context=CONTEXT,
    )


def test_a_review_keeps_the_display_name_it_was_written_under() -> None:
    review = write("  Tea Lover ")
    assert review.reviewer_name == "Tea Lover"
    assert review.collect_events()[0].reviewer_name == "Tea Lover"  # type: ignore[attr-defined]


def test_a_reviewer_without_a_display_name_is_a_verified_buyer() -> None:
    assert (write("").reviewer_name, write("   ").reviewer_name) == (
        "Verified buyer",
        "Verified buyer",
    )


def test_the_read_side_names_old_reviews_as_the_write_side_does() -> None:
    assert read_models.ANONYMOUS_REVIEWER == ANONYMOUS_REVIEWER


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("x" * (DISPLAY_NAME_MAX + 1), f"Must be at most {DISPLAY_NAME_MAX} characters."),
        ("Ann\x00", "Must not contain the NUL character."),
        ("Ann\nBob", "Must not contain control characters."),
        ("Ann\ud800", "Must not contain unpaired surrogate characters."),
    ],
)
def test_display_names_are_short_and_printable(name: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        clean_display_name(name)
    assert refused.value.details == {"display_name": [message]}


def test_the_account_records_its_display_name(shop: Shop) -> None:
    # given
    user_id = uuid4()
    # when
    shop.register_account(
        user_id=user_id, email="a@b.co", role="customer", display_name=" Ann ", context=CONTEXT
    )
    # then
    assert shop.get_account(user_id).display_name == "Ann"


def test_accounts_stored_before_display_names_load_without_one(shop: Shop) -> None:
    # given: a Created event as it was stored before it carried a display name
    user_id = uuid4()
    shop.register_account(user_id=user_id, email="a@b.co", role="customer", context=CONTEXT)
    created = next(iter(shop.events.get(user_id)))
    del created.__dict__["display_name"]
    older = Shop(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    older.recorder.insert_events([older.mapper.to_stored_event(created)])
    # when
    account = older.get_account(user_id)
    # then
    assert (account.email, account.role, account.display_name) == ("a@b.co", "customer", "")


def test_the_public_review_shows_the_name_and_no_account_id() -> None:
    # given
    customer_id, created = uuid4(), datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    row = read_models.ReviewView(
        id=uuid4(),
        product_id=uuid4(),
        customer_id=customer_id,
        reviewer_name="Tea Lover",
        rating=4,
        comment="Pours well",
        created_at=created,
    )
    # when
    body = review_body(row)
    # then
    assert body == {
        "id": str(row.id),
        "reviewer_name": "Tea Lover",
        "rating": 4,
        "comment": "Pours well",
        "created_at": "2026-12-01T09:30:00+00:00",
    }
