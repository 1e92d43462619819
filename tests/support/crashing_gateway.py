"""The injection seam of the failure tests: a gateway, or a shop, whose process "dies" at one
step of a payment, before or after the real step ran (the money has moved, the answer is lost)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from write_api.application import Shop
from write_api.payments.fake_gateway import FakeGateway
from write_api.payments.gateway import Charge, GatewayUnavailable, PaymentGateway, RefundOutcome
from write_api.results import Saved

CRASH_POINTS = (
    "after attempt recorded",  # before the gateway authorises
    "after authorise",  # the hold is made, its answer lost
    "after authorisation recorded",  # before the gateway captures
    "after capture",  # the money is taken, its answer lost
    "before paid recorded",  # the event store refuses the last save
)


class SimulatedCrash(Exception):
    """The process stopped here."""


@dataclass
class CrashingGateway:
    """Delegates to the real gateway; raises SimulatedCrash at `crash` (one of CRASH_POINTS)."""

    inner: PaymentGateway
    crash: str = ""
    before_authorise: Callable[[], Any] | None = field(default=None)  # to interleave others

    def authorise(self, **request: Any) -> Charge:
        if self.before_authorise is not None:
            self.before_authorise()
        self._maybe("after attempt recorded")
        charge = self.inner.authorise(**request)
        self._maybe("after authorise")
        return charge

    def capture(self, charge_id: str) -> Charge:
        self._maybe("after authorisation recorded")
        charge = self.inner.capture(charge_id)
        self._maybe("after capture")
        return charge

    def void(self, charge_id: str) -> Charge:
        return self.inner.void(charge_id)

    def retrieve(self, idempotency_key: str) -> Charge | None:
        return self.inner.retrieve(idempotency_key)

    def _maybe(self, point: str) -> None:
        if self.crash == point:
            raise SimulatedCrash(point)


class ShopFailingToRecordPaid(Shop):
    """The real shop whose save of Paid fails (a crash, a lost connection) after the capture."""

    name = "shopstream"  # the same event store tables

    def pay_order(self, order_id: Any, **kwargs: Any) -> Saved:
        raise SimulatedCrash("before paid recorded")


class RefundsUnreachable(FakeGateway):
    """The fake gateway during an outage of its refund API (configured by dotted path)."""

    def retrieve_refund(self, refund_id: str) -> RefundOutcome:
        raise GatewayUnavailable(f"timed out retrieving {refund_id}")
