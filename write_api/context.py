"""Build the CommandContext of a DRF request: who acts, and the ids that trace the command."""

from __future__ import annotations

import re

from django.http import HttpRequest
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from adapters.tracing import current_traceparent
from write_api.accounts.models import User
from write_api.domain.metadata import CommandContext

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def command_context(request: Request | HttpRequest) -> CommandContext:
    """Works for DRF views and for Django views such as the admin."""
    user = request.user
    authenticated = user is not None and user.is_authenticated
    request_id = getattr(getattr(request, "_request", request), "request_id", None)
    offered = request.headers.get("X-Correlation-ID", "")
    return CommandContext(
        actor_id=str(user.pk) if authenticated else None,
        actor_role=getattr(user, "role", None) if authenticated else "anonymous",
        request_id=request_id,
        correlation_id=offered if _SAFE_ID.match(offered) else request_id,
        causation_id=request_id,
        traceparent=current_traceparent(),
    )


def acting_user(request: Request) -> User:
    """The signed-in caller of a view whose permission classes let only users in."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user
