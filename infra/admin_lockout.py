"""Lock out the Django admin log-in after repeated failures (django-axes, stored in PostgreSQL).

Only the admin's session log-in is counted and locked. The API's JWT log-in
(`/auth/token`) calls the same `authenticate()`, but it has its own per-IP DRF
throttle and answers in the error envelope; axes neither counts nor blocks it.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle


class AdminLoginLockout(AxesStandaloneBackend):
    """Refuses a locked-out admin log-in; never authenticates anyone itself."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        # Without a request (a shell, a test client's login()) it cannot be an admin
        # log-in over HTTP: axes would raise instead of letting the next backend decide.
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


class AdminLoginAttempts(AxesDatabaseHandler):
    """Axes' database handler, restricted to requests under the admin site."""

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        if request is not None and self.is_admin_request(request):
            super().user_login_failed(sender, credentials, request, **kwargs)

    def user_logged_in(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        if request is not None and self.is_admin_request(request):
            super().user_logged_in(sender, request, user, **kwargs)

    def user_logged_out(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        if request is not None and self.is_admin_request(request):
            super().user_logged_out(sender, request, user, **kwargs)


def client_ip(request: HttpRequest) -> str | None:
    """The same client address the API throttles use (REMOTE_ADDR, or X-Forwarded-For
    behind NUM_PROXIES trusted proxies), so one setting describes the proxies."""
    return BaseThrottle().get_ident(request)  # type: ignore[arg-type]


def username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """Log-in is by email whatever its case, so count "Admin@x" and "admin@x" as one."""
    value = (credentials or {}).get("username") or request.POST.get("username")
    return value.strip().lower() if isinstance(value, str) else None
