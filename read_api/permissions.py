"""Who may read what on the read API (roles come from the JWT's user)."""

from __future__ import annotations

from uuid import UUID

from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


class HasReadRole(BasePermission):
    roles: tuple[str, ...] = ()
    message = "Your role may not read this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.role in self.roles)


class IsCustomer(HasReadRole):
    roles = ("customer",)


class TracksOrders(HasReadRole):
    """Customers (their own), sellers (orders with their products) and admins (all)."""

    roles = ("customer", "seller", "admin")


class IsAdmin(HasReadRole):
    roles = ("admin",)


class ReadsHistory(HasReadRole):
    """Analysts (read-only access to the event history) and admins."""

    roles = ("analyst", "admin")


class ReadsProductHistory(HasReadRole):
    """Sellers (the view checks the product is theirs), analysts and admins."""

    roles = ("seller", "analyst", "admin")


class OwnsOrdersOrAdmin(HasReadRole):
    roles = ("customer", "admin")


def caller_id(request: Request) -> UUID:
    """The id of the signed-in caller of a view whose permission classes let only users in."""
    user_id: UUID | None = request.user.id
    if user_id is None:
        raise NotAuthenticated()
    return user_id
