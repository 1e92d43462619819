"""Wiring of the payment use cases: the shop, the configured gateway and timings."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils.module_loading import import_string

from write_api.application import shop
from write_api.paying import Payments
from write_api.payments.gateway import PaymentGateway
from write_api.reconciling import PaymentReconciliation, ReconcilingGateway


def configured_gateway() -> ReconcilingGateway:
    gateway: ReconcilingGateway = import_string(settings.PAYMENT_GATEWAY)()
    return gateway


def payments(gateway: PaymentGateway | None = None) -> Payments:
    return Payments(
        shop(),
        gateway or configured_gateway(),
        resume_after=timedelta(seconds=settings.PAYMENT_ATTEMPT_RESUME_SECONDS),
    )


def reconciliation(stale_after: timedelta) -> PaymentReconciliation:
    gateway = configured_gateway()
    return PaymentReconciliation(payments(gateway), gateway, stale_after=stale_after)
