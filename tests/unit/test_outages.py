"""Which errors are outages (retry forever) and which are an event's own fault (park it)."""

from __future__ import annotations

import django.db
import eventsourcing.persistence
import kombu.exceptions
import psycopg
import pytest
import redis.exceptions
from kafka.errors import KafkaConnectionError, KafkaTimeoutError
from opensearchpy import exceptions as opensearch

from adapters.outages import is_outage
from projections.catalog.search_index import DocumentsRefused, RetryableIndexError
from projections.parking import clean_text, storable


@pytest.mark.parametrize(
    "error",
    [
        django.db.OperationalError("server closed the connection unexpectedly"),
        django.db.InterfaceError("connection already closed"),
        psycopg.OperationalError("connection refused"),
        psycopg.InterfaceError("the connection is closed"),
        eventsourcing.persistence.OperationalError("could not connect"),
        eventsourcing.persistence.InterfaceError("closed"),
        redis.exceptions.ConnectionError("Connection refused"),
        redis.exceptions.TimeoutError("Timeout reading from socket"),
        redis.exceptions.BusyLoadingError("loading"),
        redis.exceptions.ReadOnlyError("READONLY"),
        opensearch.ConnectionError("N/A", "refused", None),
        opensearch.ConnectionTimeout("TIMEOUT", "read timed out", None),
        opensearch.TransportError(503, "unavailable", None),
        opensearch.TransportError(429, "too many requests", None),
        opensearch.TransportError("N/A", "no answer", None),
        RetryableIndexError("bulk items refused with 429"),
        KafkaConnectionError(),
        KafkaTimeoutError(),
        kombu.exceptions.OperationalError("Error 111 connecting to redis"),
        ConnectionRefusedError(111, "refused"),
        TimeoutError("timed out"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_backing_server_error_is_an_outage(error: BaseException) -> None:
    assert is_outage(error) is True


@pytest.mark.parametrize(
    "error",
    [
        django.db.DataError("integer out of range"),
        django.db.IntegrityError("violates check constraint"),
        redis.exceptions.ResponseError("WRONGTYPE"),
        redis.exceptions.DataError("Invalid input of type: 'dict'"),
        opensearch.RequestError(400, "mapper_parsing_exception", None),
        opensearch.NotFoundError(404, "index_not_found_exception", None),
        DocumentsRefused("OpenSearch rejected documents"),
        KeyError("name"),
        ValueError("ProductRepriced v3 arrived before ProductCreated"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_an_error_about_the_input_is_no_outage(error: BaseException) -> None:
    assert is_outage(error) is False


def test_an_outage_wrapped_in_another_error_is_still_an_outage() -> None:
    # given
    try:
        try:
            raise opensearch.ConnectionTimeout("TIMEOUT", "read timed out", None)
        except opensearch.ConnectionTimeout as timeout:
            raise RuntimeError("indexing failed") from timeout
    except RuntimeError as wrapped:
        error = wrapped
    # when / then
    assert is_outage(error) is True


def test_an_envelope_postgresql_cannot_hold_is_kept_exactly_beside_a_readable_copy() -> None:
    # given
    envelope = {"data": {"charge_id": "ch_\x00", "reason": ["\ud800x"]}}
    # when
    stored, exact = storable(envelope)
    # then
    assert stored == {"data": {"charge_id": "ch_\ufffd", "reason": ["\ufffdx"]}}
    assert exact == '{"data": {"charge_id": "ch_\\u0000", "reason": ["\\ud800x"]}}'
    assert storable({"a": "fine"}) == ({"a": "fine"}, "")
    assert storable({"n": float("nan")}) == ({"n": "nan"}, '{"n": NaN}')
    assert clean_text("a\x00b") == "a\ufffdb"
