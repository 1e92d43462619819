"""Account commands: registration, roles and (de)activation."""

from __future__ import annotations

from uuid import UUID

from write_api.domain.account import Account
from write_api.domain.metadata import CommandContext
from write_api.results import Saved
from write_api.store import ShopStore


class AccountCommands(ShopStore):
    """The event-sourced side of user accounts (the Django User row is kept by services)."""

    def register_account(
        self,
        *,
        user_id: UUID,
        email: str,
        role: str,
        context: CommandContext,
        display_name: str = "",
    ) -> Saved:
        account = Account.register(
            user_id=user_id, email=email, role=role, display_name=display_name, context=context
        )
        self.save(account)
        return Saved(account.id, account.version)

    def change_role(self, user_id: UUID, *, role: str, context: CommandContext) -> Saved:
        return self._update(
            self.get_account, user_id, lambda a: a.change_role(role=role, context=context)
        )

    def deactivate_account(self, user_id: UUID, *, context: CommandContext) -> Saved:
        return self._update(self.get_account, user_id, lambda a: a.deactivate(context=context))

    def reactivate_account(self, user_id: UUID, *, context: CommandContext) -> Saved:
        return self._update(self.get_account, user_id, lambda a: a.reactivate(context=context))
