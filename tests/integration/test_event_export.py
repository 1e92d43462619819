"""The v2 event feed and export on PostgreSQL: filters, chunks, streaming, personal data."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from structlog.testing import capture_logs

from projections.audit.models import AuditEvent
from projections.audit.projector import AuditProjector
from projections.models import ParkedEvent
from read_api import event_export
from read_api.event_export import EventFilters, event_chunks
from read_api.personal_data import pseudonym
from tests.integration.test_escalations import project_since
from tests.support.actors import Actor, make_actor
from tests.support.shop_data import PASSWORD, create_product
from write_api.accounts import services
from write_api.application import Shop
from write_api.domain.metadata import CommandContext

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db,
    pytest.mark.urls("infra.urls.read_api"),
]
EXPORT = "/api/v2/events/export"


@dataclass
class PersonalHistory:
    """A customer's events holding personal values, all projected into the audit log."""

    start: int
    order_id: str
    email: str
    personal: list[str]  # every personal value stored in those events


def personal_history(shop_app: Shop) -> PersonalHistory:
    """Sign-up, order, payment, review and an escalation discussed and rejected: each with a
    personal value unique to this test."""
    start = shop_app.recorder.max_notification_id() or 0
    tag = uuid.uuid4().hex[:8]
    email, name = f"zelda-{tag}@private.example", f"Zelda Quill {tag}"
    address = {
        "name": name,
        "line1": f"77 Hidden Lane {tag}",
        "line2": f"Flat {tag}",
        "city": f"Secretville{tag}",
        "postcode": f"ZZ{tag[:4]}",
        "country": "GB",
    }
    messages = [f"Ring me on 555-{tag} please", f"My neighbour {tag} saw it", f"No, {tag}."]
    context = CommandContext(actor_role="customer")
    customer = services.sign_up(
        shop_app, email=email, password=PASSWORD, role="customer", context=context,
        display_name=name,
    )  # fmt: skip
    product = create_product(shop_app, name=f"Vase {tag}", price=Decimal("9.00"), stock=3).id
    shop_app.add_to_cart(customer_id=customer.id, product_id=product, quantity=1, context=context)
    order = shop_app.check_out(customer_id=customer.id, shipping_address=address, context=context)
    shop_app.pay_order(order.id, charge_id=f"ch_{order.id}", context=context)
    shop_app.write_review(
        customer_id=customer.id, product_id=product, rating=4, comment="Nice vase.",
        reviewer_name=name, context=context,
    )  # fmt: skip
    opened = shop_app.open_escalation(
        order.id, customer_id=customer.id, reason="damaged", message=messages[0], context=context
    )
    shop_app.post_escalation_message(
        opened.id, author_id=customer.id, role="customer", message=messages[1], context=context
    )
    shop_app.reject_escalation(opened.id, message=messages[2], context=CommandContext())
    project_since(shop_app, start)
    personal = [email, name, *(v for k, v in address.items() if k != "country"), *messages]
    return PersonalHistory(start, str(order.id), email, personal)


@pytest.fixture
def analyst(shop_app: Shop) -> Actor:
    return make_actor(shop_app, "analyst")


def export(actor: Actor, **params: Any) -> tuple[int, bytes]:
    response = actor.client.get(EXPORT, params)
    if not response.streaming:
        return response.status_code, response.content
    return response.status_code, b"".join(response.streaming_content)


def test_an_analysts_feed_and_exports_hold_no_personal_value(
    shop_app: Shop, analyst: Actor, admin: Actor
) -> None:
    # given
    history = personal_history(shop_app)
    after = {"after": history.start}
    # when
    ndjson = export(analyst, format="ndjson", **after)
    as_csv = export(analyst, format="csv", **after)
    feed = analyst.client.get("/api/v2/events", {**after, "limit": 1000})
    full = export(admin, format="ndjson", **after)
    # then: the analyst's bytes hold none of them, yet the events are there, pseudonymised
    for body in (ndjson[1], as_csv[1], feed.content):
        leaked = [v for v in history.personal if v.encode() in body]
        assert leaked == []
        assert history.order_id.encode() in body
        assert pseudonym(history.email, _key()).encode() in body
    assert (ndjson[0], as_csv[0], feed.status_code) == (200, 200, 200)
    # and: an admin exports them in full
    assert full[0] == 200
    assert [v for v in history.personal if v.encode() not in full[1]] == []


def test_only_admins_may_ask_for_personal_data_in_full(
    shop_app: Shop, analyst: Actor, admin: Actor, customer: Actor
) -> None:
    # given
    history = personal_history(shop_app)
    # when
    refused = analyst.client.get(EXPORT, {"personal": "full"})
    hidden = export(admin, format="ndjson", after=history.start, personal="pseudonymised")
    # then
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")
    assert [v for v in history.personal if v.encode() in hidden[1]] == []
    assert customer.client.get(EXPORT).status_code == 403
    assert analyst.client.get("/api/v1/events/export").status_code == 404


def test_an_export_is_every_matching_event_in_store_order_with_the_contracts_columns(
    shop_app: Shop, analyst: Actor
) -> None:
    # given
    history = personal_history(shop_app)
    order = {"aggregate_type": "Order", "aggregate_id": history.order_id}
    # when
    status, body = export(analyst, format="csv", after=history.start, **order)
    response = analyst.client.get(EXPORT, {"format": "ndjson", "after": history.start, **order})
    lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    # then
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert status == 200
    assert list(rows[0]) == list(event_export.COLUMNS)
    types = [r["type"] for r in rows]
    assert (types[0], types[-1]) == ("OrderPlaced", "OrderPaid")
    assert {r["aggregate_id"] for r in rows} == {history.order_id}
    assert [int(r["position"]) for r in rows] == sorted(int(r["position"]) for r in rows)
    assert [r["position"] for r in rows] == [str(e["position"]) for e in lines]
    assert json.loads(rows[0]["data"])["shipping_address"]["country"] == "GB"
    assert response["Content-Type"] == "application/x-ndjson"
    attachment = f'attachment; filename="events-after-{history.start}.ndjson"'
    assert response["Content-Disposition"] == attachment


def test_the_feed_answers_results_and_a_next_link_that_continues_after_the_last_position(
    shop_app: Shop, analyst: Actor
) -> None:
    # given
    history = personal_history(shop_app)
    # when
    first = analyst.client.get("/api/v2/events", {"after": history.start, "limit": 2}).json()
    second = analyst.client.get(first["next"].removeprefix("http://localhost")).json()
    everything = analyst.client.get(
        "/api/v2/events", {"after": history.start, "limit": 1000}
    ).json()
    escalations = analyst.client.get(
        "/api/v2/events", {"after": history.start, "aggregate_type": "Escalation"}
    ).json()
    # then
    positions = [e["position"] for e in everything["results"]]
    assert [e["position"] for e in first["results"] + second["results"]] == positions[:4]
    assert first["events"] == first["results"]
    assert first["next_after"] == positions[1]
    assert everything["next"] is None
    assert everything["next_after"] == positions[-1]
    assert [e["type"] for e in escalations["results"]] == [
        "EscalationOpened",
        "EscalationMessagePosted",
        "EscalationResolved",
    ]
    assert {e["data"]["message"] for e in escalations["results"]} == {None}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "xml"}, "format"),
        ({"type": "OrderExploded"}, "type"),
        ({"aggregate_type": "Basket"}, "aggregate_type"),
        ({"aggregate_id": "nope"}, "aggregate_id"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
        ({"after": "-1"}, "after"),
        ({"personal": "some"}, "personal"),
    ],
)
def test_bad_export_and_feed_parameters_are_400_naming_the_field(
    analyst: Actor, params: dict[str, str], field: str
) -> None:
    # when
    response = analyst.client.get(EXPORT, params)
    feed = analyst.client.get("/api/v2/events", {k: v for k, v in params.items() if k != "format"})
    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert list(response.json()["error"]["details"]) == [field]
    if field != "format":
        assert (feed.status_code, list(feed.json()["error"]["details"])) == (400, [field])


def test_chunks_are_a_keyset_walk_on_position_without_offset(shop_app: Shop) -> None:
    # given
    history = personal_history(shop_app)
    # when
    with CaptureQueriesContext(connection) as queries:
        chunks = list(event_chunks(EventFilters(), after=history.start, size=3))
    # then
    positions = [row["position"] for chunk in chunks for row in chunk]
    assert [len(c) for c in chunks[:-1]] == [3] * (len(chunks) - 1)
    assert positions == sorted(positions)
    assert len(positions) == len(set(positions))
    assert positions[0] > history.start
    # a query for each chunk's rows and one for holes before its end, and a last empty one
    # when the last chunk was full
    assert len(queries.captured_queries) == 2 * len(chunks) + (len(positions) % 3 == 0)
    assert not any("OFFSET" in q["sql"] for q in queries.captured_queries)


def test_a_client_that_goes_away_ends_the_export_at_the_chunk_it_was_on(
    shop_app: Shop, analyst: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: an export of several chunks
    history = personal_history(shop_app)
    monkeypatch.setattr(event_export, "CHUNK_SIZE", 2)
    response = analyst.client.get(EXPORT, {"after": history.start})
    chunks = iter(response.streaming_content)
    # when: the client reads one chunk and leaves (the WSGI server closes the response)
    with capture_logs() as logs, transaction_spared():
        first = next(chunks)
        response.close()
    # then: the walk stopped there, having read nothing more
    ended = [e for e in logs if e["event"] == "event_export_ended"]
    assert [(e["rows"], e["finished"]) for e in ended] == [(0, False)]
    assert len(first.splitlines()) == 2
    assert list(chunks) == []


@contextmanager
def transaction_spared() -> Iterator[None]:
    """Closing a response ends its request, and Django then closes the database connection
    (as it should in a server): here that would end the test's transaction."""
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_finished.connect(close_old_connections)


def _key() -> bytes:
    key: bytes = settings.PSEUDONYM_KEY
    return key


def test_a_walk_by_position_stops_before_an_event_the_audit_log_lacks_until_it_lands(
    shop_app: Shop, analyst: Actor
) -> None:
    # given: five events stored; the audit projector has not written the third yet (it
    # comes from another partition than the fourth and fifth)
    start = shop_app.recorder.max_notification_id() or 0
    for n in range(5):
        create_product(shop_app, name=f"Lamp {n}")
    envelopes = project_since(shop_app, start)
    stored = [e["position"] for e in envelopes]
    late = stored[2]
    AuditEvent.objects.filter(position=late).delete()
    # when
    walked = [r["position"] for c in event_chunks(EventFilters(), after=start, size=2) for r in c]
    page = analyst.client.get("/api/v2/events", {"after": start, "limit": 100}).json()
    # then: nothing past the hole, so a reader resuming from the last position misses nothing
    assert walked == stored[:2]
    assert [e["position"] for e in page["results"]] == stored[:2]
    assert (page["next"], page["next_after"]) == (None, stored[1])

    # when: it lands
    AuditProjector().apply([envelopes[2]])
    resumed = analyst.client.get("/api/v2/events", {"after": page["next_after"]}).json()
    # then
    assert [e["position"] for e in resumed["results"]] == stored[2:]


def test_an_event_skipped_for_the_audit_log_is_no_hole(shop_app: Shop) -> None:
    # given: the third of five events parked by the audit projector, then skipped
    start = shop_app.recorder.max_notification_id() or 0
    for n in range(5):
        create_product(shop_app, name=f"Desk {n}")
    envelopes = project_since(shop_app, start)
    stored = [e["position"] for e in envelopes]
    AuditEvent.objects.filter(position=stored[2]).delete()
    parked = ParkedEvent.objects.create(
        projector="audit",
        aggregate_id=envelopes[2]["aggregate_id"],
        position=stored[2],
        envelope=envelopes[2] | {"occurred_at": str(envelopes[2]["occurred_at"])},
        error="refused",
    )
    # when
    while_parked = [r["position"] for c in event_chunks(EventFilters(), after=start) for r in c]
    parked.status = ParkedEvent.SKIPPED
    parked.save()
    skipped = [r["position"] for c in event_chunks(EventFilters(), after=start) for r in c]
    # then
    assert while_parked == stored[:2]
    assert skipped == stored[:2] + stored[3:]
