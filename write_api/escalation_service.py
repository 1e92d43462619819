"""Wiring of the escalation use case that may move money: the shop and the refunds use case."""

from __future__ import annotations

from write_api.application import shop
from write_api.escalating import Escalations
from write_api.refunding import refunds


def escalations() -> Escalations:
    return Escalations(shop(), refunds())
