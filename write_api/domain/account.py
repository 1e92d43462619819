"""The Account aggregate: the audit history of a user's role and activation."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from write_api.domain.errors import Conflict, ValidationFailed, field_error
from write_api.domain.limits import DISPLAY_NAME_MAX, EMAIL_MAX, text_errors
from write_api.domain.metadata import CommandContext

ROLES = ("customer", "seller", "admin", "analyst")
SELF_SERVICE_ROLES = ("customer", "seller")


def clean_display_name(name: str) -> str:
    """The public name shown on reviews: optional (""), trimmed, printable, short."""
    name = name.strip()
    if errors := text_errors(name, max_length=DISPLAY_NAME_MAX):
        raise ValidationFailed("The account is invalid.", {"display_name": errors})
    return name


def check_role(role: str) -> None:
    if role not in ROLES:
        raise field_error("role", f"Must be one of {', '.join(ROLES)}.")


class Account(Aggregate):
    """One user's account; its id is the user's id."""

    TOPIC = "shopstream.account"

    @staticmethod
    def create_id(user_id: UUID, **_: object) -> UUID:
        return user_id

    @classmethod
    def register(
        cls,
        *,
        user_id: UUID,
        email: str,
        role: str,
        context: CommandContext,
        display_name: str = "",
    ) -> Account:
        check_role(role)
        if errors := text_errors(email, min_length=3, max_length=EMAIL_MAX):
            raise ValidationFailed("The account is invalid.", {"email": errors})
        created: Account = cls(
            user_id=user_id,
            email=email,
            role=role,
            display_name=clean_display_name(display_name),
            metadata=context.as_event_metadata(),
        )
        return created

    @event("Created", topic="shopstream.account.Created")
    def __init__(
        self,
        *,
        user_id: UUID,
        email: str,
        role: str,
        metadata: dict[str, str | None],
        display_name: str = "",  # absent from events stored before display names
    ) -> None:
        self.email = email
        self.role = role
        self.display_name = display_name
        self.active = True

    def change_role(self, *, role: str, context: CommandContext) -> None:
        check_role(role)
        if role != self.role and context.actor_id == str(self.id):
            # Like deactivation: an admin demoting themselves could leave the shop with none.
            raise Conflict("You cannot change your own role.", code="illegal_transition")
        if role != self.role:
            self._role_changed(role=role, previous=self.role, metadata=context.as_event_metadata())

    @event("RoleChanged", topic="shopstream.account.RoleChanged")
    def _role_changed(self, *, role: str, previous: str, metadata: dict[str, str | None]) -> None:
        self.role = role

    def deactivate(self, *, context: CommandContext) -> None:
        if context.actor_id == str(self.id):
            raise Conflict("You cannot deactivate your own account.", code="illegal_transition")
        if self.active:
            self._deactivated(metadata=context.as_event_metadata())

    @event("Deactivated", topic="shopstream.account.Deactivated")
    def _deactivated(self, *, metadata: dict[str, str | None]) -> None:
        self.active = False

    def reactivate(self, *, context: CommandContext) -> None:
        if not self.active:
            self._reactivated(metadata=context.as_event_metadata())

    @event("Reactivated", topic="shopstream.account.Reactivated")
    def _reactivated(self, *, metadata: dict[str, str | None]) -> None:
        self.active = True
