"""Bearer-token authentication of both APIs: simplejwt's, with the user id claim checked."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token


def user_id_claim(token: Token | dict[str, Any]) -> UUID | None:
    """The token's user id, or None when it has none or it is not a UUID.

    A signed token can carry any claim value (a token minted elsewhere with the same
    key, or a future id scheme); the user table's key is a UUID, and a lookup by
    anything else is a database error, not a missing user.
    """
    value = token.get(api_settings.USER_ID_CLAIM)
    try:
        return UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


class UserJWTAuthentication(JWTAuthentication):
    """A token whose user id is not a UUID is an invalid token (401), like any other."""

    def get_user(self, validated_token: Token) -> Any:
        if user_id_claim(validated_token) is None:
            raise InvalidToken("Token contained no recognizable user identification")
        return super().get_user(validated_token)


class UserJWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme: the same bearer JWT as simplejwt's (drf-spectacular)."""

    target_class = "adapters.authentication.UserJWTAuthentication"
