"""Wiring of the escalation use case that may move money: the shop and the refunds use case."""

from __future__ import annotations

from write_api.application import shop
from write_api.domain.errors import Conflict
from write_api.escalating import Escalations, RefundOutcome


class _RefundsNotWiredYet:
    """Until the refunds use case is merged in: a refund resolution is refused, unchanged."""

    def refund_order(self, *args: object, **kwargs: object) -> RefundOutcome:
        raise Conflict("Refunds are not available yet.", code="refunds_unavailable")


def escalations() -> Escalations:
    return Escalations(shop(), _RefundsNotWiredYet())
