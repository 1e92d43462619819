"""Operating parked events: the `parked` command, the start-up rebuild, the admin page."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import Client

from adapters.clients import opensearch_client
from projections import cache_outbox
from projections.catalog import cache_keys
from projections.catalog.models import ProductView
from projections.catalog.projector import CatalogProjector
from projections.catalog.rebuild import catalog_envelopes
from projections.catalog.search_index import SearchIndex
from projections.models import ParkedEvent
from projections.parking import park, park_behind
from projections.registry import PROJECTORS, REPLAYS
from projections.replay.guard import release, take
from tests.integration.projection_support import (
    UNSTORABLE_STOCK,
    OlderReleaseProducts,
    closed_port,
    created_data,
    product_envelope,
)
from tests.integration.test_admin import csrf_token, logged_in
from tests.support.actors import make_actor
from tests.support.shop_data import create_product, create_products
from write_api.application import Shop
from write_api.domain.metadata import CommandContext

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
ROOT = Path(__file__).resolve().parents[2]


def parked_chain(name: str = "Chained") -> tuple[str, ParkedEvent, ParkedEvent]:
    """A product whose creation is parked for the catalog, and its reprice parked behind it."""
    product = str(uuid.uuid4())
    created = park(
        "catalog",
        product_envelope(product, 1, 10**12, "ProductCreated", created_data(name, 2)),
        "DataError('value too long')",
        attempts=3,
        source="t:0@1",
    )
    behind = park_behind(
        "catalog", product_envelope(product, 2, 10**12 + 1, "ProductRepriced", {"price": "9.00"})
    )
    return product, created, behind


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("parked", *args, stdout=out)
    return out.getvalue()


def test_list_and_show_describe_parked_events(isolated_namespace: str) -> None:
    # given
    product, created, behind = parked_chain()
    # when
    listed = run("list")
    shown = run("show", str(created.pk))
    # then
    assert f"{created.pk}\tparked\tcatalog\t{product}\t{10**12}\t3\t" in listed
    assert f"{behind.pk}\tparked\tcatalog\t{product}\t{10**12 + 1}\t0\t" in listed
    assert listed.endswith("2 parked\n")
    assert "error: DataError('value too long')" in shown
    assert '"stock": 2' in shown
    assert f"aggregate_id: {product}" in shown


@pytest.mark.parametrize(
    "args",
    [["show", "987654321"], ["redrive", "987654321"], ["skip", "987654321", "--reason", "x"]],
)
def test_an_id_that_does_not_exist_is_a_clear_error_and_changes_nothing(
    isolated_namespace: str, args: list[str]
) -> None:
    # given
    parked_chain()
    # when
    with pytest.raises(CommandError, match="no parked event with id 987654321") as refused:
        run(*args)
    # then
    assert refused.value.returncode == 1
    assert list(ParkedEvent.objects.values_list("status", flat=True)) == ["parked", "parked"]


@pytest.mark.parametrize("action", ["show", "redrive"])
def test_the_command_exits_1_for_an_id_that_does_not_exist(action: str) -> None:
    # when: run as an operator runs it (against the stack's own database)
    env = {**os.environ, "SHOPSTREAM_ENV": "test"}
    done = subprocess.run(
        [sys.executable, "manage.py", "parked", action, "987654321"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # then
    assert done.returncode == 1
    assert "no parked event with id 987654321" in done.stderr


def test_skip_records_who_and_why_and_deletes_nothing(isolated_namespace: str) -> None:
    # given
    _, created, behind = parked_chain()
    # when
    out = run("skip", str(created.pk), "--reason", "an old import, re-entered by hand")
    # then
    assert out == f"skipped #{created.pk}\n"
    created.refresh_from_db()
    assert (created.status, created.reason) == ("skipped", "an old import, re-entered by hand")
    assert created.resolved_by.startswith("cli:")
    assert created.resolved_at is not None
    assert ParkedEvent.objects.get(pk=behind.pk).status == "parked"
    assert ParkedEvent.objects.count() == 2


def test_a_skip_needs_a_reason_and_only_parked_events_can_be_skipped(
    isolated_namespace: str,
) -> None:
    # given
    _, created, _ = parked_chain()
    run("skip", str(created.pk), "--reason", "done")
    # when / then
    with pytest.raises(CommandError, match=f"#{created.pk} is skipped"):
        run("skip", str(created.pk), "--reason", "again")
    with pytest.raises(CommandError, match="needs a reason"):
        run("skip", str(created.pk + 1), "--reason", "  ")
    assert ParkedEvent.objects.get(pk=created.pk).reason == "done"
    assert ParkedEvent.objects.get(pk=created.pk + 1).status == "parked"


def test_redriving_behind_a_skipped_event_applies_what_can_and_keeps_what_still_fails(
    isolated_namespace: str,
) -> None:
    # given: the creation is skipped, so the reprice has nothing to apply to
    product, created, behind = parked_chain()
    SearchIndex(opensearch_client(), isolated_namespace).ensure()
    run("skip", str(created.pk), "--reason", "never existed")
    # when
    with pytest.raises(CommandError, match="1 aggregates still have parked events") as failed:
        run("redrive", str(behind.pk))
    # then: it stays parked with the new error, and no row was made up
    assert failed.value.returncode == 1
    behind.refresh_from_db()
    assert (behind.status, behind.attempts) == ("parked", 1)
    assert "arrived before ProductCreated" in behind.error
    assert not ProductView.objects.filter(id=product).exists()


def test_a_redrive_while_opensearch_is_away_exits_1_and_leaves_everything_parked(
    isolated_namespace: str, settings: Any
) -> None:
    # given: parked events, and OpenSearch away
    product, created, behind = parked_chain()
    settings.OPENSEARCH_URL = f"http://127.0.0.1:{closed_port()}"
    opensearch_client.cache_clear()
    try:
        # when
        with pytest.raises(CommandError, match="a server is away") as failed:
            run("redrive", str(created.pk))
    finally:
        opensearch_client.cache_clear()
    # then: an outage is no verdict on the events
    assert failed.value.returncode == 1
    after = {e.pk: (e.status, e.attempts, e.error) for e in ParkedEvent.objects.all()}
    assert after == {
        created.pk: ("parked", 3, "DataError('value too long')"),
        behind.pk: ("parked", 0, "held back: an earlier event of this aggregate is parked"),
    }
    assert not ProductView.objects.filter(id=product).exists()


def test_redrive_all_applies_every_parked_aggregate_in_position_order_with_progress(
    isolated_namespace: str,
) -> None:
    # given: two aggregates parked (as after a fixed outage of the read table)
    SearchIndex(opensearch_client(), isolated_namespace).ensure()
    first, *_ = parked_chain("First")
    second, *_ = parked_chain("Second")
    # when
    out = run("redrive", "--all")
    # then
    rows = {str(r.id): (r.name, r.version, str(r.price)) for r in ProductView.objects.all()}
    assert rows == {first: ("First", 2, "9.00"), second: ("Second", 2, "9.00")}
    assert set(ParkedEvent.objects.values_list("status", flat=True)) == {"redriven"}
    assert out.count(": redriven #") == 2
    progress = [line for line in out.splitlines() if line.startswith("redrive: ")]
    assert progress[0].startswith("redrive: 0/2 aggregates, ")
    assert progress[-1].startswith("redrive: 2/2 aggregates, ")
    assert all("aggregates/s" in line and "ETA" in line for line in progress)


def test_a_redriven_product_counts_the_reviews_applied_while_it_was_held(
    isolated_namespace: str,
) -> None:
    # given: a held product, and a review of it that the projector applied meanwhile
    index = SearchIndex(opensearch_client(), isolated_namespace)
    index.ensure()
    product, created, _ = parked_chain("Reviewed")
    review = {
        **product_envelope(str(uuid.uuid4()), 1, 10**12 + 5, "ReviewCreated", {}),
        "aggregate_type": "Review",
        "data": {
            "product_id": product,
            "customer_id": str(uuid.uuid4()),
            "rating": 4,
            "comment": "",
        },
    }
    with transaction.atomic():
        CatalogProjector(index).apply([review])
    # when
    run("redrive", str(created.pk))
    # then
    row = ProductView.objects.get(id=product)
    assert (row.version, row.rating_average, row.rating_count) == (2, Decimal("4.00"), 1)
    index.refresh()
    document = index.client.get(index=index.alias, id=product)["_source"]
    assert (document["rating_average"], document["rating_count"]) == (4.0, 1)


def test_a_rebuild_parks_a_document_the_index_refuses_and_completes(
    shop_app: Shop, isolated_namespace: str, older_release_products: OlderReleaseProducts
) -> None:
    # given: an older release stored a stock no index field holds, next to a normal product
    big = older_release_products("Warehouse", UNSTORABLE_STOCK)
    [normal] = create_products(shop_app, 1, name="Ordinary")
    index = SearchIndex(opensearch_client(), isolated_namespace)
    index.ensure()
    # when
    out = io.StringIO()
    call_command("rebuild_search_index", stdout=out)
    # then: the rebuild finished, the alias moved, the refused product is parked
    assert list(index.client.indices.get_alias(name=index.alias)) == [f"{index.alias}_v2"]
    index.refresh()
    found = index.client.mget(index=index.alias, body={"ids": [str(big), str(normal)]})["docs"]
    assert [d["found"] for d in found] == [False, True]
    [parked] = ParkedEvent.objects.filter(aggregate_id=str(big))
    assert (parked.projector, parked.status, parked.envelope["type"]) == (
        "catalog",
        "parked",
        "ProductCreated",
    )
    assert parked.envelope["data"]["stock"] == UNSTORABLE_STOCK
    assert "mapper_parsing_exception" in parked.error


def test_a_rebuild_indexes_a_held_back_product_as_its_read_row_shows_it(
    shop_app: Shop, isolated_namespace: str
) -> None:
    # given: the projector applied a product's creation and parked its reprice
    index = SearchIndex(opensearch_client(), isolated_namespace)
    index.ensure()
    product = create_product(
        shop_app,
        name="Held lamp",
        description="",
        price=Decimal("5.00"),
        stock=1,
        seller_id=None,
        context=CommandContext(),
    ).id
    shop_app.change_product(product, price=Decimal("6.00"), context=CommandContext())
    created, repriced = [
        e for e in catalog_envelopes(shop_app, 0) if e["aggregate_id"] == str(product)
    ]
    with transaction.atomic():
        CatalogProjector(index).apply([created])
    park("catalog", repriced, "DataError('numeric field overflow')", attempts=3)
    # when
    call_command("rebuild_search_index", stdout=io.StringIO())
    # then: the index agrees with the held-back row, not with the event store
    index.refresh()
    document = index.client.get(index=index.alias, id=str(product))
    assert (document["_version"], document["_source"]["price_text"]) == (1, "5.00")


def test_prepare_stack_starts_with_an_unindexable_product_and_parks_it_once(
    shop_app: Shop, isolated_namespace: str, older_release_products: OlderReleaseProducts
) -> None:
    # given: the store holds a product the index refuses; the index is new (as on every start)
    big = older_release_products("Silo", UNSTORABLE_STOCK)
    # when: preparing twice, as two starts would
    call_command("prepare_stack", stdout=io.StringIO())
    index = SearchIndex(opensearch_client(), isolated_namespace)
    index.client.indices.delete(index=f"{index.alias}_v1")
    call_command("prepare_stack", stdout=io.StringIO())
    # then
    assert index.exists()
    assert ParkedEvent.objects.filter(aggregate_id=str(big), status="parked").count() == 1


def admin_client(shop_app: Shop) -> Client:
    admin = make_actor(shop_app, "admin").user
    assert admin is not None
    return logged_in(admin.email)


CHANGELIST = "/admin/projections/parkedevent/"


def test_the_admin_lists_parked_events_read_only(shop_app: Shop, isolated_namespace: str) -> None:
    # given
    product, created, _ = parked_chain()
    client = admin_client(shop_app)
    # when
    page = client.get(CHANGELIST)
    detail = client.get(f"{CHANGELIST}{created.pk}/change/")
    # then
    assert page.status_code == 200
    assert product in page.content.decode()
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert client.get(f"{CHANGELIST}add/").status_code == 403


def test_the_admin_skip_action_asks_for_a_reason_then_records_it(
    shop_app: Shop, isolated_namespace: str
) -> None:
    # given
    _, created, behind = parked_chain()
    client = admin_client(shop_app)
    token = csrf_token(client, CHANGELIST)
    selected = {"action": "skip", "_selected_action": [str(created.pk)], "index": "0"}
    # when: the action is chosen, it shows a form instead of skipping
    form = client.post(CHANGELIST, {**selected, "csrfmiddlewaretoken": token})
    # then
    assert form.status_code == 200
    assert 'name="reason"' in form.content.decode()
    assert ParkedEvent.objects.get(pk=created.pk).status == "parked"
    # when: the form is sent without, then with a reason
    confirm: dict[str, Any] = {
        "action": "skip",
        "_selected_action": [str(created.pk)],
        "apply": "Skip",
        "csrfmiddlewaretoken": re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode()
        ).group(1),  # type: ignore[union-attr]
    }
    empty = client.post(CHANGELIST, {**confirm, "reason": ""})
    done = client.post(CHANGELIST, {**confirm, "reason": "duplicate of an order re-entered"})
    # then
    assert empty.status_code == 200
    assert done.status_code == 302
    created.refresh_from_db()
    assert (created.status, created.reason) == ("skipped", "duplicate of an order re-entered")
    assert created.resolved_by.startswith("admin:")
    assert ParkedEvent.objects.get(pk=behind.pk).status == "parked"


def admin_redrive(shop_app: Shop, parked: ParkedEvent) -> Any:
    """The admin's changelist action "redrive" on one parked event."""
    client = admin_client(shop_app)
    return client.post(
        CHANGELIST,
        {
            "action": "redrive",
            "_selected_action": [str(parked.pk)],
            "index": "0",
            "csrfmiddlewaretoken": csrf_token(client, CHANGELIST),
        },
    )


def test_the_admin_redrive_action_applies_the_aggregate(
    shop_app: Shop, isolated_namespace: str
) -> None:
    # given
    SearchIndex(opensearch_client(), isolated_namespace).ensure()
    product, created, behind = parked_chain("Redriven")
    # when
    response = admin_redrive(shop_app, created)
    # then
    assert response.status_code == 302
    row = ProductView.objects.get(id=product)
    assert (row.name, row.version, str(row.price)) == ("Redriven", 2, "9.00")
    statuses = {e.pk: e.status for e in ParkedEvent.objects.all()}
    assert statuses == {created.pk: "redriven", behind.pk: "redriven"}
    assert cache_keys.generation(cache_keys.product_key(product)) >= 1
    assert cache_outbox.pending() == 0


@pytest.fixture
def replaying_catalog() -> Any:
    """Another session holding the catalog's replay lock, as a running replay does."""
    d = connection.settings_dict
    with psycopg.connect(
        host=d["HOST"], port=d["PORT"], dbname=d["NAME"], user=d["USER"], password=d["PASSWORD"]
    ) as other:
        other.execute("SELECT pg_advisory_lock(hashtext('replay'), hashtext('catalog'))")
        yield


def test_a_redrive_is_refused_while_a_replay_of_its_projector_runs_and_changes_nothing(
    isolated_namespace: str, replaying_catalog: None
) -> None:
    # given: parked catalog events, while a replay of catalog holds its lock
    product, created, behind = parked_chain("Replaying")
    # when
    with pytest.raises(CommandError, match="a replay of catalog is running") as refused:
        run("redrive", str(created.pk))
    # then
    assert refused.value.returncode == 1
    assert "nothing was redriven" in str(refused.value)
    after = {e.pk: (e.status, e.attempts) for e in ParkedEvent.objects.all()}
    assert after == {created.pk: ("parked", 3), behind.pk: ("parked", 0)}
    assert not ProductView.objects.filter(id=product).exists()


def test_a_redrive_leaves_the_replay_lock_free_once_done(isolated_namespace: str) -> None:
    # given
    SearchIndex(opensearch_client(), isolated_namespace).ensure()
    _, created, _ = parked_chain("Released")
    # when
    run("redrive", str(created.pk))
    # then: a replay could start now (one_replay_of would take the lock)
    assert take("catalog")
    release("catalog")


def test_no_projector_name_shares_the_replay_locks_first_key() -> None:
    # given: parking's advisory locks are keyed (hashtext(projector), hashtext(aggregate))
    names = sorted({*PROJECTORS, *REPLAYS})
    # when
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM unnest(%s::text[]) n WHERE hashtext(n) = hashtext('replay')",
            [names],
        )
        [(colliding,)] = cursor.fetchall()
    # then
    assert colliding == 0
    assert len(names) == 4


def test_the_admin_redrive_action_is_refused_while_the_projector_replays(
    shop_app: Shop, isolated_namespace: str, replaying_catalog: None
) -> None:
    # given: a parked chain, while a replay of catalog runs
    product, created, behind = parked_chain("Admin replaying")
    # when
    response = admin_redrive(shop_app, created)
    # then
    assert response.status_code == 302
    told = [str(m) for m in get_messages(response.wsgi_request)]
    assert told == [
        "a replay of catalog is running: redrive its parked events once it has ended "
        "(nothing was redriven)"
    ]
    statuses = {e.pk: e.status for e in ParkedEvent.objects.all()}
    assert statuses == {created.pk: "parked", behind.pk: "parked"}
    assert not ProductView.objects.filter(id=product).exists()
