"""Users of each role with a token, and an API client that sends it."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

from rest_framework.test import APIClient

from adapters.authentication import IdentityRefreshToken
from tests.support.shop_data import PASSWORD
from write_api.accounts import services
from write_api.accounts.models import User
from write_api.application import Shop
from write_api.domain.metadata import CommandContext


@dataclass
class Actor:
    """A user of one role with a fresh token pair, and an API client that sends its token."""

    user: User | None
    access: str
    refresh: str
    client: APIClient


def make_actor(shop: Shop, role: str | None) -> Actor:
    """`role` None is the anonymous caller."""
    if role is None:
        return Actor(None, "", "", APIClient(SERVER_NAME="localhost"))
    email = f"{role}-{uuid4().hex[:10]}@example.com"
    if role in ("customer", "seller"):
        user = services.sign_up(
            shop, email=email, password=PASSWORD, role=role, context=CommandContext()
        )
    else:
        user = User.objects.create_user(email, PASSWORD, role=role, is_staff=role == "admin")
    refresh = IdentityRefreshToken.for_user(user)  # as log-in issues them
    client = APIClient(SERVER_NAME="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}")
    return Actor(user, str(refresh.access_token), str(refresh), client)


__all__ = ["PASSWORD", "Actor", "make_actor"]
