"""Sign-up, JWT log-in/refresh/log-out, the caller's profile, and admin account commands."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from adapters.authentication import IdentityRefreshToken, user_id_claim
from adapters.openapi import errors
from write_api.accounts import services
from write_api.accounts.models import Role, User
from write_api.application import shop
from write_api.context import acting_user, command_context
from write_api.domain.account import ROLES, SELF_SERVICE_ROLES
from write_api.domain.errors import NotFound, field_error
from write_api.domain.limits import DISPLAY_NAME_MAX, EMAIL_MAX, PASSWORD_MAX
from write_api.fields import StrictCharField, StrictChoiceField
from write_api.permissions import IsAdmin, IsAuthenticatedUser
from write_api.serializers import StrictSerializer
from write_api.views.openapi import AccountChangeSerializer, AccountSerializer


def user_body(user: User) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "is_active": user.is_active,
    }


class SignupApi(APIView):
    """Create a customer or seller account, with an optional public display name."""

    authentication_classes: list[type] = []
    throttle_scope = "auth"

    class InputSerializer(StrictSerializer):
        email = serializers.EmailField(max_length=EMAIL_MAX)
        password = StrictCharField(max_length=PASSWORD_MAX, trim_whitespace=False)
        role = StrictChoiceField(choices=SELF_SERVICE_ROLES, default=Role.CUSTOMER)
        display_name = StrictCharField(max_length=DISPLAY_NAME_MAX, allow_blank=True, default="")

        def validate_email(self, email: str) -> str:
            email = email.strip().lower()
            if User.objects.filter(email__iexact=email).exists():
                raise serializers.ValidationError(services.EMAIL_TAKEN)
            return email

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            try:
                validate_password(attrs["password"], User(email=attrs["email"]))
            except DjangoValidationError as weak:
                raise serializers.ValidationError({"password": list(weak.messages)}) from None
            return attrs

    @extend_schema(request=InputSerializer, responses={201: AccountSerializer})
    def post(self, request: Request, version: str) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = services.sign_up(shop(), **body.validated_data, context=command_context(request))
        return Response(user_body(user), status=status.HTTP_201_CREATED)


@extend_schema(responses={200: TokenObtainPairSerializer, **errors(401)})
class TokenApi(TokenObtainPairView):
    """Log in with email and password: an access and a refresh token (rate limited per IP)."""

    throttle_scope = "auth"


class TokenRefreshInputSerializer(TokenRefreshSerializer):
    """simplejwt's, but the token of a user who is gone (or of no UUID) is a 401, not a 500.

    The new access token carries the user's identity as stored now (a changed role shows).
    """

    token_class = IdentityRefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        user_id = user_id_claim(self.token_class(attrs["refresh"]))
        if user_id is None or not User.objects.filter(pk=user_id).exists():
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            )
        return super().validate(attrs)


@extend_schema(responses={200: TokenRefreshSerializer, **errors(401)})
class TokenRefreshApi(TokenRefreshView):
    """Trade a refresh token for a new access token and a new (rotated) refresh token."""

    serializer_class = TokenRefreshInputSerializer


class LogoutApi(APIView):
    """Revoke a refresh token: it can no longer be refreshed."""

    permission_classes = [IsAuthenticatedUser]

    class InputSerializer(StrictSerializer):
        refresh = StrictCharField()

    @extend_schema(request=InputSerializer, responses={205: None})
    def post(self, request: Request, version: str) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            token = RefreshToken(body.validated_data["refresh"])
        except TokenError as invalid:
            raise field_error("refresh", str(invalid)) from None
        if str(token.get("user_id")) != str(acting_user(request).id):
            raise field_error("refresh", "This refresh token belongs to another account.")
        token.blacklist()
        return Response(status=status.HTTP_205_RESET_CONTENT)


class MeApi(APIView):
    """The authenticated caller, as stored (the token carries only what commands need)."""

    permission_classes = [IsAuthenticatedUser]

    @extend_schema(responses={200: AccountSerializer})
    def get(self, request: Request, version: str) -> Response:
        return Response(user_body(_user(acting_user(request).id)))


class UserRoleApi(APIView):
    """Admins change a user's role; the change is stored as an event."""

    permission_classes = [IsAdmin]

    class InputSerializer(StrictSerializer):
        role = StrictChoiceField(choices=ROLES)

    @extend_schema(request=InputSerializer, responses={200: AccountChangeSerializer, **errors(409)})
    def post(self, request: Request, version: str, user_id: UUID) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        saved = services.change_role(
            shop(), user_id, role=body.validated_data["role"], context=command_context(request)
        )
        return Response({**user_body(_user(user_id)), "version": saved.version})


class UserDeactivateApi(APIView):
    """Admins deactivate an account: log-in and its refresh tokens stop working."""

    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={200: AccountChangeSerializer, **errors(409)})
    def post(self, request: Request, version: str, user_id: UUID) -> Response:
        saved = services.deactivate(shop(), user_id, context=command_context(request))
        return Response({**user_body(_user(user_id)), "version": saved.version})


class UserReactivateApi(APIView):
    """Admins reactivate an account."""

    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={200: AccountChangeSerializer, **errors(409)})
    def post(self, request: Request, version: str, user_id: UUID) -> Response:
        saved = services.reactivate(shop(), user_id, context=command_context(request))
        return Response({**user_body(_user(user_id)), "version": saved.version})


def _user(user_id: UUID) -> User:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound(f"User {user_id} does not exist.")
    return user
