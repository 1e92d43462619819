"""Bearer-token authentication of both APIs, without a database read per request.

An access token carries who the user is: id, role, display name and the token version
it was issued under (`identity_claims`). A request is let in on those claims when the
version matches the one Redis holds for the user (adapters.token_versions): one round
trip. Deactivation and role changes move the version on, so the next request with an
older token, in any process, is refused. When Redis holds no version or cannot answer,
the user's row decides, as it did for every request before: it must exist, be active
and have the token's version. Tokens issued without these claims (before them) are
checked against the row too.
"""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from django.contrib.auth import get_user_model
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token

from adapters import token_versions

ROLE, DISPLAY_NAME, TOKEN_VERSION = "role", "display_name", "token_version"


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


def identity_claims(user: Any) -> dict[str, Any]:
    """What a request needs to know of its user, as access-token claims.

    Whatever changes one of these must move the user's token version on, as role changes
    do (write_api/accounts/services.py): a token's claims are believed while it matches.
    """
    return {
        ROLE: user.role,
        DISPLAY_NAME: user.display_name,
        TOKEN_VERSION: user.token_version,
    }


class IdentityRefreshToken(RefreshToken):
    """A refresh token whose access tokens carry the user's identity claims as stored now.

    Minted at log-in it knows its user; read back from a refresh request it loads the row
    (a refresh is rare, and a role changed meanwhile must show in the new access token).
    """

    user: Any = None

    @classmethod
    def for_user(cls, user: Any) -> IdentityRefreshToken:
        token = cast(IdentityRefreshToken, super().for_user(user))
        token.user = user
        return token

    @property
    def access_token(self) -> AccessToken:
        access = super().access_token
        user, user_id = self.user, user_id_claim(self)
        if user is None and user_id is not None:
            user = get_user_model().objects.filter(pk=user_id).first()
        if user is not None:
            access.payload.update(identity_claims(user))
            token_versions.remember(user.pk, user.token_version)
        return access


class IdentityTokenObtainSerializer(TokenObtainPairSerializer):
    """simplejwt's log-in (SIMPLE_JWT["TOKEN_OBTAIN_SERIALIZER"]) with identity claims."""

    token_class = IdentityRefreshToken


class UserJWTAuthentication(JWTAuthentication):
    """simplejwt's bearer tokens; the user comes from the claims, checked as described above.

    A token whose user id is not a UUID is an invalid token (401), like any other.
    """

    def get_user(self, validated_token: Token) -> Any:
        user_id = user_id_claim(validated_token)
        if user_id is None:
            raise InvalidToken("Token contained no recognizable user identification")
        claims = _identity(validated_token)
        if claims is None:  # issued without identity claims: the row decides
            return super().get_user(validated_token)
        version = claims[TOKEN_VERSION]
        if token_versions.current(user_id) == version:
            return _claimed_user(user_id, claims)
        user: Any = super().get_user(validated_token)  # 401 when the row is gone or inactive
        token_versions.remember(user_id, user.token_version)
        if user.token_version != version:
            raise InvalidToken("Token has been revoked")
        return user


def _identity(token: Token) -> dict[str, Any] | None:
    claims = {name: token.get(name) for name in (ROLE, DISPLAY_NAME, TOKEN_VERSION)}
    if all(value is None for value in claims.values()):
        return None
    valid = (
        isinstance(claims[ROLE], str)
        and isinstance(claims[DISPLAY_NAME], str)
        and type(claims[TOKEN_VERSION]) is int
    )
    if not valid:
        raise InvalidToken("Token contained malformed identity claims")
    return claims


def _claimed_user(user_id: UUID, claims: dict[str, Any]) -> Any:
    """The user as its token describes it: an unsaved instance that is never saved."""
    return get_user_model()(id=user_id, is_active=True, **claims)


class UserJWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme: the same bearer JWT as simplejwt's (drf-spectacular)."""

    target_class = "adapters.authentication.UserJWTAuthentication"
