"""Account use cases: the user row (for log-in) and the Account events (for audit) change together.

The user row is updated inside a database transaction that stays open until the
event is stored, so a refused or failed event leaves the row untouched.

A deactivation or a role change also revokes the user's access tokens, in every process,
from the next request on: it moves the user's token version on and publishes it to Redis
before anything is stored. If Redis cannot take it, nothing changes and the caller gets
503: a revocation that would not be seen everywhere is not half made.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from django.db import IntegrityError, transaction
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from adapters import token_versions
from write_api.accounts.models import Role, User
from write_api.application import Saved, Shop
from write_api.domain.account import clean_display_name
from write_api.domain.errors import NotFound, field_error
from write_api.domain.metadata import CommandContext

EMAIL_TAKEN = "An account with this email already exists."


def sign_up(
    app: Shop,
    *,
    email: str,
    password: str,
    role: str,
    context: CommandContext,
    display_name: str = "",
) -> User:
    """A new user and its Account event; an email taken meanwhile is refused like any taken one.

    The serializer's check cannot see a concurrent sign-up with the same email: the
    unique index decides, and its refusal is the same 400 a sequential duplicate gets.
    """
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email, password, role=role, display_name=clean_display_name(display_name)
            )
            app.register_account(
                user_id=user.id,
                email=user.email,
                role=role,
                display_name=user.display_name,
                context=context,
            )
    except IntegrityError:
        if User.objects.filter(email__iexact=email).exists():
            raise field_error("email", EMAIL_TAKEN) from None
        raise
    return user


def bootstrap_admin(app: Shop, email: str, password: str, context: CommandContext) -> bool:
    """Ensure an active admin with this email exists; True when it was created now."""
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        with transaction.atomic():
            user = User.objects.create_superuser(email, password)
            app.register_account(
                user_id=user.id, email=user.email, role=Role.ADMIN, context=context
            )
        return True
    change_role(app, user.id, role=Role.ADMIN, context=context)
    reactivate(app, user.id, context=context)
    return False


def change_role(app: Shop, user_id: UUID, *, role: str, context: CommandContext) -> Saved:
    def record(user: User) -> Saved:
        revoked = _revoke_access_tokens(user) if role != user.role else []
        saved = app.change_role(user_id, role=role, context=context)
        user.role = role
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.save(update_fields=["role", "is_staff", "is_superuser", *revoked])
        return saved

    return _change_account(app, user_id, context, record)


def deactivate(app: Shop, user_id: UUID, *, context: CommandContext) -> Saved:
    """Refuse log-in from now on and revoke every token the user holds."""

    def record(user: User) -> Saved:
        revoked = _revoke_access_tokens(user) if user.is_active else []
        saved = app.deactivate_account(user_id, context=context)
        user.is_active = False
        user.save(update_fields=["is_active", *revoked])
        for token in OutstandingToken.objects.filter(user=user):
            BlacklistedToken.objects.get_or_create(token=token)
        return saved

    return _change_account(app, user_id, context, record)


def reactivate(app: Shop, user_id: UUID, *, context: CommandContext) -> Saved:
    def record(user: User) -> Saved:
        saved = app.reactivate_account(user_id, context=context)
        user.is_active = True
        user.save(update_fields=["is_active"])
        return saved

    return _change_account(app, user_id, context, record)


def revoke_deleted_user(sender: type[User], instance: User, **_: object) -> None:
    """post_delete: a deleted user's access tokens stop working at once too."""
    token_versions.publish(instance.pk, token_versions.GONE)


def _change_account(
    app: Shop, user_id: UUID, context: CommandContext, record: Callable[[User], Saved]
) -> Saved:
    """Lock the user row, store the event, update the row, commit: both change or neither."""
    with transaction.atomic():
        user = _locked_user(user_id)
        _ensure_account(app, user, context)
        return record(user)


def _revoke_access_tokens(user: User) -> list[str]:
    """Move the (locked) user's token version on, in Redis first; the fields to save."""
    user.token_version += 1
    token_versions.publish(user.id, user.token_version)
    # Redis keeps the larger version, so this only matters if it lost the key meanwhile.
    transaction.on_commit(lambda: token_versions.remember(user.id, user.token_version))
    return ["token_version"]


def _locked_user(user_id: UUID) -> User:
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise NotFound(f"User {user_id} does not exist.")
    return user


def _ensure_account(app: Shop, user: User, context: CommandContext) -> None:
    """Users made outside the API (e.g. `createsuperuser`) get their Account on first change."""
    try:
        app.get_account(user.id)
    except NotFound:
        app.register_account(user_id=user.id, email=user.email, role=user.role, context=context)


def product_seller(*, actor_id: UUID, actor_role: str, requested: UUID | None) -> UUID:
    """Whose product a new one is: the caller's own, or (admins only) an active seller's."""
    if requested is None or requested == actor_id:
        return actor_id
    if actor_role != Role.ADMIN:
        raise field_error("seller_id", "Only admins create products for another seller.")
    if not User.objects.filter(pk=requested, role=Role.SELLER, is_active=True).exists():
        raise field_error("seller_id", "No active seller has this id.")
    return requested
