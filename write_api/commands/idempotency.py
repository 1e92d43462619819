"""Idempotency-Key for commands that move money (Stripe semantics).

The first request with a key stores a fingerprint of itself and its response; a
repeat with the same body gets that response again (`Idempotent-Replayed: true`)
without a second effect; a repeat with another body is refused with 422. Keys
belong to one user and expire after 24 hours. A refusal is an outcome and is
stored too, unless it is transient (another payment in flight): a retry with the
key may still succeed then.

Each outcome costs one statement, placed where it keeps the record exact:
- A command whose only effect is its events (checkout) stores the record in the
  transaction of those events: record and effect commit together or not at all.
  A repeat, concurrent or later, runs the command again; the record's unique key
  refuses its save, which rolls its events back, and it answers with the stored
  response. A concurrent repeat waits on that key for the first one's commit.
- A command that acts outside the event store (pay calls the gateway) holds a
  PostgreSQL advisory lock on the key and looks for the record before it acts, so a
  concurrent repeat waits and then replays, and no repeat acts again.
- A refusal is stored on its own, by an insert that also replaces an expired
  record; when the key was stored first by another request, that is the answer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone
from psycopg.types.json import Jsonb
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from write_api.application import RowWithEvents
from write_api.commands.models import IdempotencyRecord
from write_api.context import acting_user
from write_api.domain.errors import ConcurrentChange, DomainError, ValidationFailed

HEADER = "Idempotency-Key"
LIFETIME = timedelta(hours=24)
UNIQUE_KEY = "one_record_per_key"  # IdempotencyRecord's constraint
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_COLUMNS = ("user_id", "key", "fingerprint", "status_code", "response", "created_at", "expires_at")
T = TypeVar("T")


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"


class KeyAlreadyUsed(Exception):
    """Another request stored this key's record first: its response is the answer."""


def fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


@dataclass
class Claim:
    """One request's Idempotency-Key: whose it is, the key, and the request's fingerprint."""

    user_id: UUID
    key: str
    fingerprint: str
    stored_with_events: bool = False

    @classmethod
    def of(cls, request: Request) -> Claim | None:
        key = request.headers.get(HEADER)
        if key is None:
            return None
        if not _VALID_KEY.match(key):
            raise ValidationFailed(
                "Invalid Idempotency-Key.", {HEADER: ["1 to 255 visible ASCII characters."]}
            )
        return cls(acting_user(request).id, key, fingerprint(request))

    def stored_with(self, respond: Callable[[T], Response]) -> Callable[[T], Mapping[str, Any]]:
        """Save options of a command: store `respond(result)` with the command's events."""

        def options(result: T) -> Mapping[str, Any]:
            self.stored_with_events = True
            return {"rows": [self._row(respond(result))]}

        return options

    def _row(self, response: Response) -> RowWithEvents:
        values = self.record_values(response, Jsonb(response.data, dumps=_json))
        return RowWithEvents(
            table=IdempotencyRecord._meta.db_table,
            values=dict(zip(_COLUMNS, values, strict=True)),
            constraint=UNIQUE_KEY,
            conflict=KeyAlreadyUsed,
        )

    def record_values(self, response: Response, body: object) -> list[Any]:
        now = timezone.now()
        return [self.user_id, self.key, self.fingerprint, response.status_code, body, now,
                now + LIFETIME]  # fmt: skip


Command = Callable[[Claim | None], Response]


def once(
    view: APIView, request: Request, command: Command, *, acts_outside: bool = False
) -> Response:
    """Run `command` once per (user, key) and answer every repeat with the stored response.

    `command` gets the request's claim (None without a key) and may pass
    `claim.stored_with(...)` to its save; `acts_outside` says it has effects beyond the
    event store (a gateway charge), which a repeat must not even attempt.
    """
    claim = Claim.of(request)
    if claim is None:
        return command(None)
    if not acts_outside:
        return _run(view, request, claim, command)
    with _serialized(claim):
        earlier = _live_record(claim)
        if earlier is not None:
            return _replay(claim, earlier)
        return _run(view, request, claim, command)


def _run(view: APIView, request: Request, claim: Claim, command: Command) -> Response:
    for _ in range(2):  # a second time only after removing an expired record of the key
        claim.stored_with_events = False
        try:
            response = command(claim)
        except KeyAlreadyUsed:
            earlier = _live_record(claim)
            if earlier is None:
                _remove_expired(claim)
                continue
            return _replay(claim, earlier)
        except DomainError as refused:
            if refused.transient:
                raise
            # The handler the deployment configured (REST_FRAMEWORK["EXCEPTION_HANDLER"]).
            response = view.get_exception_handler()(refused, {"request": request, "view": view})
            if response.status_code >= 500:
                raise
        if claim.stored_with_events:
            return response
        earlier = _store(claim, response)
        return response if earlier is None else _replay(claim, earlier)
    raise ConcurrentChange("The Idempotency-Key changed concurrently; try again.")


def _replay(claim: Claim, record: IdempotencyRecord) -> Response:
    if record.fingerprint != claim.fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was used with a different request.")
    return Response(
        record.response, status=record.status_code, headers={"Idempotent-Replayed": "true"}
    )


def _live_record(claim: Claim) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.filter(
        user_id=claim.user_id, key=claim.key, expires_at__gte=timezone.now()
    ).first()


def _remove_expired(claim: Claim) -> None:
    IdempotencyRecord.objects.filter(
        user_id=claim.user_id, key=claim.key, expires_at__lt=timezone.now()
    ).delete()


_STORE = f"""
    INSERT INTO {IdempotencyRecord._meta.db_table} AS kept ({", ".join(_COLUMNS)})
    VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s)
    ON CONFLICT (user_id, key) DO UPDATE SET
        {", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS[2:])}
    WHERE kept.expires_at < EXCLUDED.created_at
    RETURNING kept.id
"""  # noqa: S608 - names from the model, values are parameters


def _store(claim: Claim, response: Response) -> IdempotencyRecord | None:
    """Store the outcome (over an expired record); None, or the live record stored first."""
    with connection.cursor() as cursor:
        cursor.execute(_STORE, claim.record_values(response, _json(response.data)))
        if cursor.fetchone() is not None:
            return None
    return _live_record(claim)


@contextlib.contextmanager
def _serialized(claim: Claim) -> Iterator[None]:
    """Hold the key's advisory lock (this connection's session) for the block."""
    digest = hashlib.blake2b(f"{claim.user_id}\n{claim.key}".encode(), digest_size=8).digest()
    lock = int.from_bytes(digest, "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [lock])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock])


def _json(value: object) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder)
