"""Domain errors with stable codes; one exception handler maps them to the HTTP envelope."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base of every business-rule refusal."""

    code = "domain_error"
    transient = False  # True: the same request may succeed later (not stored as an outcome)

    def __init__(
        self, message: str, details: Mapping[str, object] | None = None, *, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code is not None:
            self.code = code


class ValidationFailed(DomainError):
    """Input breaks a rule; `details` maps each field to its messages."""

    code = "validation_error"


class NotFound(DomainError):
    """The aggregate does not exist (or must not be revealed)."""

    code = "not_found"


class Forbidden(DomainError):
    """The caller may not do this to this resource."""

    code = "forbidden"


class Conflict(DomainError):
    """The change clashes with the aggregate's current state (or a concurrent change)."""

    code = "conflict"


class ConcurrentChange(Conflict):
    """Lost too many races for one aggregate: the same request may well succeed if retried."""

    transient = True


def field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed("The request is invalid.", {field: [message]})
