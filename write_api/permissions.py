"""Who may call a command: DRF permission classes for roles and product ownership."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from write_api.accounts.models import Role
from write_api.context import acting_user
from write_api.domain.errors import NotFound
from write_api.domain.order import Order


class HasRole(BasePermission):
    """Authenticated, active, and in one of `roles` (anonymous -> 401, wrong role -> 403)."""

    roles: tuple[str, ...] = ()
    message = "Your role may not do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.role in self.roles)


class IsAuthenticatedUser(HasRole):
    roles = tuple(Role.values)


class IsAdmin(HasRole):
    roles = (Role.ADMIN,)


class IsSellerOrAdmin(HasRole):
    roles = (Role.SELLER, Role.ADMIN)


class IsCustomer(HasRole):
    roles = (Role.CUSTOMER,)


class TakesPartInOrders(HasRole):
    """Customers, sellers and admins: the roles an order's parties have (never analysts)."""

    roles = (Role.CUSTOMER, Role.SELLER, Role.ADMIN)


class OwnsProductOrIsAdmin(IsSellerOrAdmin):
    """Sellers manage their own products; admins manage all."""

    message = "Only the product's seller or an admin may change it."

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        user = acting_user(request)
        return user.role == Role.ADMIN or obj.seller_id == user.id


class OwnsOrderOrIsAdmin(IsAuthenticatedUser):
    """Admins act on any order, customers on their own; anyone else learns nothing (404)."""

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        order: Order = obj
        user = acting_user(request)
        if user.role == Role.ADMIN or (user.role == Role.CUSTOMER and order.customer_id == user.id):
            return True
        raise NotFound(f"Order {order.id} does not exist.")


class SellsEveryLineOrIsAdmin(IsSellerOrAdmin):
    """Admins move any order through fulfilment; a seller only one whose every line is theirs.

    A seller with no line in the order does not learn it exists (404); one who shares it with
    another seller is refused (403).
    """

    message = "Another seller also has lines in this order."

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        order: Order = obj
        user = acting_user(request)
        if user.role != Role.SELLER:
            return True
        if user.id not in order.seller_ids:
            raise NotFound(f"Order {order.id} does not exist.")
        return bool(order.seller_ids == {user.id})


class FulfilsOrders(IsSellerOrAdmin):
    """Sellers ship and deliver their own lines of an order, admins any line; the order
    (Order.fulfil, Order.deliver) refuses a seller another seller's line."""


def acting_seller(request: Request) -> UUID | None:
    """The seller a fulfilment command acts for; None for an admin, who acts for every seller."""
    user = acting_user(request)
    return user.id if user.role == Role.SELLER else None
