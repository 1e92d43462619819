from uuid import uuid4

import pytest

from write_api.application import Shop
from write_api.domain.errors import Conflict, ValidationFailed
from write_api.domain.metadata import CommandContext

ADMIN = CommandContext(actor_id=str(uuid4()), actor_role="admin", request_id="r9")


def test_role_changes_and_deactivation_are_recorded_with_their_actor(shop: Shop) -> None:
    # given
    user_id = uuid4()
    shop.register_account(user_id=user_id, email="a@b.co", role="customer", context=ADMIN)
    # when
    shop.change_role(user_id, role="seller", context=ADMIN)
    shop.deactivate_account(user_id, context=ADMIN)
    # then
    events = list(shop.events.get(user_id))
    assert [type(e).__name__ for e in events] == ["Created", "RoleChanged", "Deactivated"]
    assert (events[1].role, events[1].previous) == ("seller", "customer")
    assert all(e.metadata["actor_id"] == ADMIN.actor_id for e in events)
    assert all(e.metadata["request_id"] == "r9" for e in events)
    account = shop.get_account(user_id)
    assert (account.role, account.active) == ("seller", False)


def test_an_unknown_role_is_refused(shop: Shop) -> None:
    user_id = uuid4()
    shop.register_account(user_id=user_id, email="a@b.co", role="customer", context=ADMIN)
    with pytest.raises(ValidationFailed):
        shop.change_role(user_id, role="superuser", context=ADMIN)
    assert shop.get_account(user_id).version == 1


def test_an_admin_cannot_deactivate_their_own_account(shop: Shop) -> None:
    admin_id = uuid4()
    shop.register_account(user_id=admin_id, email="boss@b.co", role="admin", context=ADMIN)
    me = CommandContext(actor_id=str(admin_id), actor_role="admin")
    with pytest.raises(Conflict):
        shop.deactivate_account(admin_id, context=me)


def test_an_admin_cannot_change_their_own_role(shop: Shop) -> None:
    # given
    admin_id = uuid4()
    shop.register_account(user_id=admin_id, email="boss@b.co", role="admin", context=ADMIN)
    me = CommandContext(actor_id=str(admin_id), actor_role="admin")
    # when / then
    with pytest.raises(Conflict) as refused:
        shop.change_role(admin_id, role="customer", context=me)
    assert refused.value.code == "illegal_transition"
    account = shop.get_account(admin_id)
    assert (account.role, account.version) == ("admin", 1)
