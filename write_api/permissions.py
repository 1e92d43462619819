"""Who may call a command: DRF permission classes for roles and product ownership."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from write_api.accounts.models import Role


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


class OwnsProductOrIsAdmin(IsSellerOrAdmin):
    """Sellers manage their own products; admins manage all."""

    message = "Only the product's seller or an admin may change it."

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        user = request.user
        return user.role == Role.ADMIN or obj.seller_id == user.id
