"""Escalations on the in-memory store: opening, messages, resolution, and what each refuses."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.support.shop_data import ADDRESS, create_product
from write_api.application import Shop
from write_api.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from write_api.domain.escalation import escalation_id, refund_id_for
from write_api.domain.metadata import CommandContext
from write_api.escalating import Escalations
from write_api.escalation_commands import EscalationOpen

CUSTOMER, SELLER, OTHER_SELLER = uuid4(), uuid4(), uuid4()
CONTEXT = CommandContext(actor_id=str(CUSTOMER), actor_role="customer")
ADMIN = CommandContext(actor_id="admin-1", actor_role="admin")


def order_of(shop: Shop, *, paid: bool = True, customer: UUID = CUSTOMER) -> UUID:
    product = create_product(shop, price=Decimal("20.00"), stock=5, seller_id=SELLER).id
    shop.add_to_cart(customer_id=customer, product_id=product, quantity=2, context=CONTEXT)
    order = shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)
    if paid:
        shop.pay_order(order.id, charge_id=f"ch_{order.id}", context=CONTEXT)
    return order.id


def open_on(shop: Shop, order_id: UUID, **overrides: Any) -> UUID:
    fields: dict[str, Any] = {
        "customer_id": CUSTOMER,
        "reason": "damaged",
        "message": "The mug arrived broken.",
        "context": CONTEXT,
    }
    fields.update(overrides)
    return shop.open_escalation(order_id, **fields).id


@dataclass
class RecordingRefunds:
    """The refunds port as the refund use case behaves: one refund per refund id."""

    made: dict[UUID, Any] = field(default_factory=dict)
    calls: int = 0
    refuse: Exception | None = None

    def refund_order(self, order_id: UUID, **kwargs: Any) -> Any:
        self.calls += 1
        if self.refuse is not None:
            raise self.refuse
        refund_id = kwargs["refund_id"]
        if refund_id not in self.made:
            self.made[refund_id] = Refund(refund_id, order_id, kwargs["amount"], "succeeded", 5)
        return self.made[refund_id]


@dataclass(frozen=True)
class Refund:
    id: UUID
    order_id: UUID
    amount: Decimal
    status: str
    version: int


def test_the_customer_opens_an_escalation_on_a_paid_order(shop: Shop) -> None:
    # given
    order_id = order_of(shop)
    # when
    saved = shop.open_escalation(
        order_id, customer_id=CUSTOMER, reason="damaged", message="Broken.", context=CONTEXT
    )
    # then
    escalation = shop.get_escalation(saved.id)
    assert (saved.id, saved.version) == (escalation_id(order_id, 1), 1)
    assert (escalation.order_id, escalation.status, escalation.reason) == (
        order_id,
        "open",
        "damaged",
    )
    assert escalation.seller_ids == [SELLER]


def test_a_second_escalation_is_refused_while_one_is_open_and_allowed_after_resolution(
    shop: Shop,
) -> None:
    # given
    order_id = order_of(shop)
    first = open_on(shop, order_id)
    # when / then
    with pytest.raises(EscalationOpen) as refused:
        open_on(shop, order_id, reason="other")
    assert refused.value.code == "escalation_open"
    assert shop._load(escalation_id(order_id, 2), type(shop.get_escalation(first))) is None
    # when: resolved, a new one may be opened
    shop.reject_escalation(first, message="Not covered.", context=ADMIN)
    second = open_on(shop, order_id, reason="not_received")
    # then
    assert second == escalation_id(order_id, 2)
    assert shop.get_escalation(second).is_open


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"reason": "bored"}, ["reason"]),
        ({"message": ""}, ["message"]),
        ({"message": "   "}, ["message"]),
        ({"message": "x" * 2001}, ["message"]),
        ({"message": "bad\x00byte"}, ["message"]),
        ({"reason": "late", "message": ""}, ["message", "reason"]),
    ],
)
def test_bad_input_is_refused_naming_the_fields_and_opens_nothing(
    shop: Shop, overrides: dict[str, Any], fields: list[str]
) -> None:
    order_id = order_of(shop)
    with pytest.raises(ValidationFailed) as refused:
        open_on(shop, order_id, **overrides)
    assert sorted(refused.value.details) == fields
    assert list(shop.events.get(escalation_id(order_id, 1))) == []


def test_unpaid_cancelled_and_other_customers_orders_cannot_be_escalated(shop: Shop) -> None:
    unpaid = order_of(shop, paid=False)
    cancelled = order_of(shop)
    shop.cancel_order(cancelled, reason="by admin", context=ADMIN)
    theirs = order_of(shop, customer=uuid4())
    with pytest.raises(Conflict) as not_paid:
        open_on(shop, unpaid)
    with pytest.raises(Conflict) as was_cancelled:
        open_on(shop, cancelled)
    with pytest.raises(NotFound):
        open_on(shop, theirs)
    with pytest.raises(NotFound):
        open_on(shop, uuid4())
    assert not_paid.value.code == was_cancelled.value.code == "order_not_escalatable"


def test_the_parties_write_messages_and_strangers_are_refused(shop: Shop) -> None:
    # given
    escalation = open_on(shop, order_of(shop))

    def post(user: UUID, role: str, message: str = "Hello") -> int:
        return shop.post_escalation_message(
            escalation, author_id=user, role=role, message=message, context=CONTEXT
        ).version

    # when / then
    assert [post(CUSTOMER, "customer"), post(SELLER, "seller"), post(uuid4(), "admin")] == [2, 3, 4]
    with pytest.raises(NotFound):
        post(uuid4(), "customer")
    with pytest.raises(Forbidden):
        post(OTHER_SELLER, "seller")
    with pytest.raises(NotFound):
        post(uuid4(), "analyst")
    with pytest.raises(ValidationFailed):
        post(CUSTOMER, "customer", "")
    assert shop.get_escalation(escalation).version == 4


def test_a_resolved_escalation_takes_no_message_and_no_second_resolution(shop: Shop) -> None:
    escalation = open_on(shop, order_of(shop))
    shop.reject_escalation(escalation, message="No.", context=ADMIN)
    with pytest.raises(Conflict) as message:
        shop.post_escalation_message(
            escalation, author_id=CUSTOMER, role="customer", message="But!", context=CONTEXT
        )
    with pytest.raises(Conflict) as again:
        shop.reject_escalation(escalation, message="No!", context=ADMIN)
    assert message.value.code == again.value.code == "escalation_resolved"
    assert shop.get_escalation(escalation).version == 2


@pytest.mark.parametrize(
    ("resolution", "amount", "restock", "fields"),
    [
        ("refund", None, None, ["amount"]),
        ("refund", Decimal("0.00"), None, ["amount"]),
        ("refund", Decimal("-1.00"), None, ["amount"]),
        ("refund", Decimal("10"), None, ["amount"]),
        ("refund", Decimal("10.5"), None, ["amount"]),
        ("refund", Decimal("10.001"), None, ["amount"]),
        ("reject", Decimal("10.00"), None, ["amount"]),
        ("reject", None, True, ["restock"]),
        ("maybe", None, None, ["resolution"]),
    ],
)
def test_bad_resolutions_are_refused_before_any_money_moves(
    shop: Shop, resolution: str, amount: Decimal | None, restock: bool | None, fields: list[str]
) -> None:
    escalation = open_on(shop, order_of(shop))
    refunds = RecordingRefunds()
    with pytest.raises(ValidationFailed) as refused:
        Escalations(shop, refunds).resolve(
            escalation,
            resolution=resolution,
            amount=amount,
            restock=restock,
            message="Decided.",
            context=ADMIN,
        )
    assert sorted(refused.value.details) == fields
    assert (refunds.calls, shop.get_escalation(escalation).is_open) == (0, True)


def test_a_refund_resolution_refunds_once_under_the_escalations_refund_id(shop: Shop) -> None:
    # given
    order_id = order_of(shop)
    escalation = open_on(shop, order_id)
    refunds = RecordingRefunds()
    use_case = Escalations(shop, refunds)

    def resolve() -> Any:
        return use_case.resolve(
            escalation,
            resolution="refund",
            amount=Decimal("15.00"),
            restock=True,
            message="Sorry about that.",
            context=ADMIN,
        )

    # when
    resolved = resolve()
    # then
    expected = {"id": refund_id_for(escalation), "amount": Decimal("15.00"), "status": "succeeded"}
    assert (resolved.resolution, resolved.refund, resolved.version) == ("refund", expected, 3)
    assert shop.get_escalation(escalation).resolution == {
        "resolution": "refund",
        "refund": expected,
    }
    # and: a retry is refused without refunding again
    with pytest.raises(Conflict):
        resolve()
    assert (refunds.calls, len(refunds.made)) == (1, 1)


def test_a_resolve_retried_after_the_refund_but_before_the_record_refunds_only_once(
    shop: Shop,
) -> None:
    # given: the refund was made, then recording the resolution failed
    escalation = open_on(shop, order_of(shop))
    refunds = RecordingRefunds()
    failing = Escalations(shop, refunds)
    failing.shop = _FailingRecord(shop)  # type: ignore[assignment]
    arguments: dict[str, Any] = {
        "resolution": "refund",
        "amount": Decimal("5.00"),
        "restock": None,
        "message": "Refunded.",
        "context": ADMIN,
    }
    with pytest.raises(RuntimeError):
        failing.resolve(escalation, **arguments)
    # when
    resolved = Escalations(shop, refunds).resolve(escalation, **arguments)
    # then
    assert (refunds.calls, len(refunds.made)) == (2, 1)
    assert resolved.refund is not None
    assert resolved.refund["id"] == refund_id_for(escalation)


def test_a_refused_refund_leaves_the_escalation_open_and_the_next_refund_gets_a_new_id(
    shop: Shop,
) -> None:
    # given
    escalation = open_on(shop, order_of(shop))
    refunds = RecordingRefunds(refuse=Conflict("Too much.", code="refund_exceeds_captured"))
    use_case = Escalations(shop, refunds)

    def resolve(amount: str) -> Any:
        return use_case.resolve(
            escalation,
            resolution="refund",
            amount=Decimal(amount),
            restock=None,
            message="Refunded.",
            context=ADMIN,
        )

    # when
    with pytest.raises(Conflict) as refused:
        resolve("999.00")
    # then
    assert refused.value.code == "refund_exceeds_captured"
    assert (shop.get_escalation(escalation).is_open, shop.get_escalation(escalation).refunding) == (
        True,
        None,
    )
    # when: another amount, accepted this time
    refunds.refuse = None
    resolved = resolve("5.00")
    # then
    assert resolved.refund is not None
    assert resolved.refund["id"] == refund_id_for(escalation, 2)
    assert [type(e).__name__ for e in shop.events.get(escalation)] == [
        "Opened",
        "RefundStarted",
        "RefundAbandoned",
        "RefundStarted",
        "Resolved",
    ]


def test_while_a_refund_is_under_way_a_rejection_or_another_refund_is_refused(
    shop: Shop,
) -> None:
    # given: a refund resolution that stopped after its claim (a crash, a timeout)
    escalation = open_on(shop, order_of(shop))
    shop.begin_escalation_refund(escalation, amount=Decimal("15.00"), restock=True, context=ADMIN)
    refunds = RecordingRefunds()
    use_case = Escalations(shop, refunds)

    def resolve(resolution: str, amount: str | None, restock: bool | None) -> Any:
        return use_case.resolve(
            escalation,
            resolution=resolution,
            amount=Decimal(amount) if amount else None,
            restock=restock,
            message="Decided.",
            context=ADMIN,
        )

    # when / then: the other verdicts are refused, and money never moves for them
    for verdict in [("reject", None, None), ("refund", "10.00", True), ("refund", "15.00", None)]:
        with pytest.raises(Conflict) as refused:
            resolve(*verdict)
        assert refused.value.code == "escalation_resolving"
    assert refunds.calls == 0
    # when: the same refund again completes it
    resolved = resolve("refund", "15.00", True)
    # then
    assert resolved.refund is not None
    assert (resolved.refund["id"], refunds.calls) == (refund_id_for(escalation), 1)
    assert shop.get_escalation(escalation).status == "resolved"


class _FailingRecord:
    """The shop, except that recording a resolution fails (a crash between the two steps)."""

    def __init__(self, shop: Shop) -> None:
        self._shop = shop

    def __getattr__(self, name: str) -> Any:
        return getattr(self._shop, name)

    def resolve_escalation_with_refund(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("crashed before recording the resolution")
