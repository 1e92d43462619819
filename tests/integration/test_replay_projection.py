"""Replaying a projection while the shop keeps serving (issue 13, item 3).

The relay and the catalog, shopping and audit projectors run as in production (real
consumer groups, in threads) while another thread keeps placing and paying orders. The
read model is damaged first, so only a real rebuild can make it right again; after the
replay and the catch-up it equals a fold of the whole store, the tables were switched,
and no email, task or cache bump was sent by the replay.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from opensearchpy import OpenSearch
from structlog.testing import capture_logs

from adapters.clients import opensearch_client
from infra.celery_app import app as celery_app
from projections.audit.models import AuditEvent, ProductStateCheckpoint
from projections.catalog import cache_keys
from projections.catalog import replay as catalog_replay
from projections.catalog.models import ProductView
from projections.catalog.search_index import SearchIndex
from projections.models import ParkedEvent
from projections.notifications.models import SentEmail
from projections.parking import park
from projections.registry import REPLAYS
from projections.replay import replayer
from projections.replay.replayer import Replay, Replayer, ReplayFailed
from projections.shopping.models import OrderStatusChange, OrderView
from projections.shopping.projector import ShoppingProjector
from tests.integration.live_pipeline import live_pipeline
from tests.integration.projection_support import closed_port, eventually, product_envelope
from tests.support.marketplace import two_seller_order
from tests.support.pipeline import in_background
from tests.support.rebuilt_read_models import differences, rebuilt, stored
from tests.support.rebuilt_read_models import envelopes as stored_envelopes
from tests.support.shop_data import CONTEXT, add_category
from write_api.application import Shop

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
REPLAYED_MODELS = {"shopping": ("carts", "orders"), "audit": ("audit",)}


@dataclass
class Database:
    """What `rebuilt_read_models.stored` needs of a stack, on this process's connections."""

    namespace: str
    shop_app: Shop

    @property
    def opensearch_url(self) -> str:
        return str(settings.OPENSEARCH_URL)

    def shop(self) -> Shop:
        return self.shop_app

    def sql(self, query: str, *params: object) -> list[tuple[Any, ...]]:
        """On a plain psycopg connection: Django's leaves jsonb as text for its fields."""
        with plain_connection() as plain:
            return plain.execute(query, params).fetchall()  # type: ignore[arg-type]


def plain_connection() -> psycopg.Connection[Any]:
    """A session of its own on the test database (psycopg's types, not Django's)."""
    d = connection.settings_dict
    return psycopg.connect(
        host=d["HOST"], port=d["PORT"], dbname=d["NAME"], user=d["USER"], password=d["PASSWORD"]
    )


@contextmanager
def shoppers(shop: Shop) -> Iterator[list[int]]:
    """A thread placing and paying marketplace orders until the block ends; yields a count."""
    rounds = [0]

    def shop_on(stop: threading.Event) -> None:
        while not stop.is_set():
            two_seller_order(shop, paid=True)
            rounds[0] += 1

    with in_background(shop_on, join_timeout=30):
        yield rounds


@contextmanager
def readers(order_ids: list[Any]) -> Iterator[list[Any]]:
    """A thread reading these orders' rows over and over; yields what each read found
    (a count, or the error a read raised)."""
    seen: list[Any] = []

    def read_on(stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                seen.append(OrderView.objects.filter(id__in=order_ids).count())
            except Exception as error:  # noqa: BLE001 - the test reports it
                seen.append(repr(error))

    with in_background(read_on, join_timeout=30):
        yield seen


def side_effects() -> dict[str, int]:
    """Emails sent, email rows, tasks waiting in the broker, parked events, cache bumps."""
    queue = celery_app.conf.task_default_queue
    with celery_app.connection_for_write() as broker:
        client = broker.default_channel.client
        tasks = sum(client.llen(key) for key in client.scan_iter(match=f"{queue}*"))
    return {
        "emails": len(mail.outbox),
        "sent_email_rows": SentEmail.objects.count(),
        "tasks": tasks,
        "parked": ParkedEvent.objects.count(),
    }


def table_oid(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::regclass::oid", [f"public.{table}"])
        [(oid,)] = cursor.fetchall()
    return int(oid)


def test_replaying_shopping_and_audit_during_traffic_rebuilds_them_without_side_effects(
    shop_app: Shop, isolated_namespace: str
) -> None:
    database = Database(isolated_namespace, shop_app)
    with live_pipeline(shop_app, isolated_namespace) as pipeline:
        # given: paid orders, projected; then the read models damaged (a lost history,
        # a wrong status, audit rows gone), which only a rebuild from the store repairs
        orders = [two_seller_order(shop_app, paid=True).order_id for _ in range(3)]
        pipeline.wait_until_caught_up(timeout=60)
        OrderStatusChange.objects.all().delete()
        OrderView.objects.update(status="cancelled")
        AuditEvent.objects.filter(type="OrderPaid").delete()
        want, _ = rebuilt(shop_app)
        assert set(differences(want, stored(database))) >= {"orders", "audit"}
        tables = {t: table_oid(t) for t in ("projections_orderview", "projections_auditevent")}
        before = side_effects()
        # when: both replayed while orders keep being placed and paid
        with shoppers(shop_app) as rounds, readers(orders) as seen:
            out = io.StringIO()
            call_command("replay_projection", "shopping", "--batch", "7", stdout=out)
            call_command("replay_projection", "audit", stdout=out)
            during = rounds[0]
        pipeline.wait_until_caught_up(timeout=120)
        # readers saw every order, each time, through the switch (old model, then new)
        assert len(seen) > 1
        assert set(seen) == {3}
        # then: every replayed model equals the whole store, traffic included
        want, _ = rebuilt(shop_app)
        found = differences(want, stored(database))
        assert {m: found.get(m) for models in REPLAYED_MODELS.values() for m in models} == {
            "carts": None,
            "orders": None,
            "audit": None,
        }
        assert during > 0, "no traffic ran during the replays"
        assert all(table_oid(t) != oid for t, oid in tables.items()), "tables were not switched"
        assert side_effects() == before
        assert "shopping: " in out.getvalue()
        assert "audit: " in out.getvalue()
        assert "events/s" in out.getvalue()


def product_checkpoints() -> set[tuple[Any, ...]]:
    found = ProductStateCheckpoint.objects.values_list("product_id", "version", "rows", "state")
    return {(*key, json.dumps(state, sort_keys=True)) for *key, state in found}


@override_settings(AUDIT_CHECKPOINT_EVERY=2)
def test_replay_leaves_no_generation_behind_and_keeps_checkpoints_forward(
    shop_app: Shop, isolated_namespace: str
) -> None:
    # given: products' state checkpoints kept live, then lost
    with live_pipeline(shop_app, isolated_namespace) as pipeline:
        two_seller_order(shop_app, paid=True)
        pipeline.wait_until_caught_up(timeout=60)
        live = product_checkpoints()
        ProductStateCheckpoint.objects.all().delete()
        # when
        call_command("replay_projection", "audit", stdout=io.StringIO())
        head = shop_app.recorder.max_notification_id()
        # then
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'replay_%%'")
            assert cursor.fetchall() == [(0,)]
            cursor.execute(
                "SELECT min(position) FROM projections_projectioncheckpoint WHERE projector = %s",
                [f"{settings.TOPIC_PREFIX}audit"],
            )
            assert cursor.fetchall() == [(head,)]
        assert AuditEvent.objects.count() == len(rebuilt(shop_app)[0].audit)
        assert live
        assert live <= product_checkpoints()


def test_replaying_notifications_is_refused_for_it_would_send_emails_again() -> None:
    # when / then
    with pytest.raises(CommandError, match="notifications cannot be replayed: it has no read"):
        call_command("replay_projection", "notifications", stdout=io.StringIO())


def test_replaying_an_unknown_projector_exits_1_naming_the_replayable_ones() -> None:
    # when
    finished = subprocess.run(
        [sys.executable, "manage.py", "replay_projection", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # then
    assert finished.returncode == 1
    assert "no projector named 'nope': replayable projectors are audit, catalog, shopping" in (
        finished.stderr
    )


class FailingOn:
    """The shopping projector, but an event of one type cannot be applied (a bug's stand-in)."""

    name = "shopping"
    aggregate_types = ShoppingProjector.aggregate_types

    def __init__(self, event_type: str) -> None:
        self.event_type, self.projector = event_type, ShoppingProjector()

    def apply(self, envelopes: list[dict[str, Any]]) -> None:
        if any(e["type"] == self.event_type for e in envelopes):
            raise ValueError(f"cannot apply {self.event_type}")
        self.projector.apply(envelopes)


def test_an_event_that_fails_aborts_the_replay_naming_it_and_keeps_the_live_tables(
    shop_app: Shop, isolated_namespace: str
) -> None:
    # given: a paid order projected, and a replay whose projector fails on OrderPaid
    with live_pipeline(shop_app, isolated_namespace) as pipeline:
        order = two_seller_order(shop_app, paid=True).order_id
        pipeline.wait_until_caught_up(timeout=60)
    live = table_oid("projections_orderview"), OrderView.objects.get(id=order).status
    failing = Replay(projector=lambda: FailingOn("OrderPaid"), tables=REPLAYS["shopping"].tables)
    head = shop_app.recorder.max_notification_id() or 0
    # The first in the store fails (earlier tests' orders are in it too).
    paid = next(e for e in stored_envelopes(shop_app, head) if e["type"] == "OrderPaid")
    # when
    with pytest.raises(ReplayFailed) as failed:
        Replayer(shop_app, failing, f"{settings.TOPIC_PREFIX}shopping", batch=50).run()
    # then
    named = f"position {paid['position']} (OrderPaid of Order {paid['aggregate_id']}, version"
    assert named in str(failed.value)
    assert "the live read model is unchanged" in str(failed.value)
    assert (table_oid("projections_orderview"), OrderView.objects.get(id=order).status) == live
    assert live[1] == "paid"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'replay_shopping'")
        assert cursor.fetchall() == [(0,)]


def test_replaying_the_catalog_rebuilds_rows_and_index_and_bumps_cached_pages(
    shop_app: Shop, isolated_namespace: str
) -> None:
    database = Database(isolated_namespace, shop_app)
    with live_pipeline(shop_app, isolated_namespace) as pipeline:
        # given: products, a category and a review, projected; then a product row damaged
        category = add_category(shop_app, "Kitchen")
        bought = two_seller_order(shop_app, paid=True)
        shop_app.change_product(bought.mug, category_id=category, context=CONTEXT)
        shop_app.write_review(
            customer_id=bought.customer_id,
            product_id=bought.mug,
            rating=5,
            comment="Lovely.",
            reviewer_name="Ann",
            context=CONTEXT,
        )
        pipeline.wait_until_caught_up(timeout=60)
        ProductView.objects.filter(id=bought.mug).update(name="Damaged", rating_count=0)
        generation = cache_keys.generation(cache_keys.product_key(str(bought.mug)))
        [old_index] = pipeline.index.client.indices.get_alias(name=pipeline.index.alias)
        before = side_effects()
        # when
        call_command("replay_projection", "catalog", stdout=io.StringIO())
        pipeline.wait_until_caught_up(timeout=60)
        # then
        want, _ = rebuilt(shop_app)
        found = differences(want, stored(database))
        assert {m: found.get(m) for m in ("products", "categories", "reviews", "documents")} == {
            "products": None,
            "categories": None,
            "reviews": None,
            "documents": None,
        }
        assert ProductView.objects.get(id=bought.mug).name == "Mug"
        [new_index] = pipeline.index.client.indices.get_alias(name=pipeline.index.alias)
        assert new_index != old_index
        assert cache_keys.generation(cache_keys.product_key(str(bought.mug))) > generation
        assert side_effects() == before


def test_a_second_replay_of_the_same_projector_is_refused_while_one_runs() -> None:
    # given: a replay of audit holds its lock (another session)
    with plain_connection() as other:
        other.execute("SELECT pg_advisory_lock(hashtext('replay'), hashtext('audit'))")
        # when / then
        with pytest.raises(CommandError, match="a replay of audit is already running"):
            call_command("replay_projection", "audit", stdout=io.StringIO())


SHAPE = """
SELECT c.relname, i.relname, pg_get_indexdef(i.oid) FROM pg_index x
JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY(%s)
UNION ALL
SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY(%s)
UNION ALL
SELECT table_name, column_name, concat_ws(' ', data_type, is_nullable, column_default)
FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ANY(%s)
"""


def test_switched_tables_keep_their_columns_keys_indexes_and_constraints_by_name(
    shop_app: Shop,
) -> None:
    # given
    tables = list(REPLAYS["shopping"].tables)

    def shape() -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(SHAPE, [tables, tables, tables])
            return sorted(cursor.fetchall())

    before = shape()
    # when
    call_command("replay_projection", "shopping", stdout=io.StringIO())
    # then
    assert shape() == before
    assert len(before) > 3 * len(tables)


@contextmanager
def a_long_read_of(table: str) -> Iterator[psycopg.Connection[Any]]:
    """Another session reading `table` in a transaction left open (say, a slow report)."""
    with plain_connection() as reader:
        reader.execute(f"SELECT count(*) FROM public.{table}")  # noqa: S608 - a model's table
        yield reader


def test_a_switch_does_not_queue_readers_behind_a_long_read_and_retries_after_it(
    shop_app: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a reader holding the audit table while the replay comes to switch
    monkeypatch.setattr(replayer, "SWITCH_LOCK_TIMEOUT_MS", 300)
    done: list[Any] = []
    with a_long_read_of(AuditEvent._meta.db_table) as reader:
        replay = threading.Thread(
            target=lambda: done.append(
                Replayer(shop_app, REPLAYS["audit"], f"{settings.TOPIC_PREFIX}audit").run()
            )
        )
        with capture_logs() as logs:
            replay.start()
            # when: the switch waited once; meanwhile a new reader is not held behind it
            assert eventually(lambda: any(e["event"] == "replay_switch_waited" for e in logs))
            with plain_connection() as newcomer:
                newcomer.execute("SET statement_timeout = '1s'")
                newcomer.execute(f"SELECT count(*) FROM public.{AuditEvent._meta.db_table}")  # noqa: S608
            reader.rollback()  # the long read ends
            replay.join(timeout=60)
    # then: the next attempt switched
    assert [type(outcome).__name__ for outcome in done] == ["Outcome"]
    assert AuditEvent.objects.count() == len(rebuilt(shop_app)[0].audit)


def test_a_switch_that_never_gets_the_tables_gives_up_and_keeps_the_live_ones(
    shop_app: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a read that outlasts every attempt
    monkeypatch.setattr(replayer, "SWITCH_LOCK_TIMEOUT_MS", 100)
    monkeypatch.setattr(replayer, "SWITCH_ATTEMPTS", 2)
    table = AuditEvent._meta.db_table
    oid = table_oid(table)
    # when / then
    with a_long_read_of(table), pytest.raises(ReplayFailed, match="stayed in use"):
        Replayer(shop_app, REPLAYS["audit"], f"{settings.TOPIC_PREFIX}audit").run()
    assert table_oid(table) == oid
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'replay_audit'")
        assert cursor.fetchall() == [(0,)]


def terminate(pid: int) -> None:
    """End that PostgreSQL session from another one (as a restart of the server would)."""
    with plain_connection() as other:
        other.execute("SELECT pg_terminate_backend(%s, 10000)", [pid])


class LosingItsSession:
    """The shopping projector, whose PostgreSQL session is ended in the middle of the batches
    `at` picks (the replay's session: its writes, and the lock it holds, go with it)."""

    name = "shopping"
    aggregate_types = ShoppingProjector.aggregate_types

    def __init__(self, at: Any) -> None:
        self.at, self.projector = at, ShoppingProjector()
        self.batches = self.terminated = 0

    def apply(self, envelopes: list[dict[str, Any]]) -> None:
        self.batches += 1
        if self.at(self.batches):
            terminate(connection.connection.info.backend_pid)
            self.terminated += 1
        self.projector.apply(envelopes)


def replay_lock_free(projector: str) -> bool:
    """Whether another session could take the projector's replay lock now."""
    with plain_connection() as other:
        [(free,)] = other.execute(
            "SELECT pg_try_advisory_lock(hashtext('replay'), hashtext(%s))", [projector]
        ).fetchall()
    return bool(free)


def test_a_replay_that_loses_its_database_session_waits_and_resumes_to_equal_the_store(
    shop_app: Shop, isolated_namespace: str
) -> None:
    # given: paid orders in the store; a replay whose session is ended at its 3rd batch
    for _ in range(3):
        two_seller_order(shop_app, paid=True)
    SearchIndex(opensearch_client(), isolated_namespace).ensure()  # `stored` reads it too
    held_after: list[bool] = []

    def third(batch: int) -> bool:
        if batch == 4:  # the 3rd again, on a new session
            held_after.append(not replay_lock_free("shopping"))
        return batch == 3

    losing = LosingItsSession(at=third)
    replay = Replay(projector=lambda: losing, tables=REPLAYS["shopping"].tables)
    notices: list[str] = []
    # when
    with capture_logs() as logs:
        outcome = Replayer(
            shop_app, replay, f"{settings.TOPIC_PREFIX}shopping", batch=5, notice=notices.append
        ).run()
    # then: it waited, saying so, went on from its generation and switched it in
    assert losing.terminated == 1
    assert held_after == [True], "the replay went on without its lock"
    assert any("a backing server is away" in line and "waiting" in line for line in notices)
    assert any(e["event"] == "replay_waiting_for_outage" for e in logs)
    want, _ = rebuilt(shop_app)
    found = differences(want, stored(Database(isolated_namespace, shop_app)))
    assert {m: found.get(m) for m in REPLAYED_MODELS["shopping"]} == {
        "carts": None,
        "orders": None,
    }
    # every event applied once: the batch lost with the session was not counted twice
    head = shop_app.recorder.max_notification_id() or 0
    kinds = set(ShoppingProjector.aggregate_types)
    assert outcome.events == sum(
        1 for e in stored_envelopes(shop_app, head) if e["aggregate_type"] in kinds
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'replay_shopping'")
        assert cursor.fetchall() == [(0,)]
    assert replay_lock_free("shopping")


def test_an_outage_that_outlasts_the_timeout_exits_1_and_keeps_the_live_tables(
    shop_app: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a projected order, and a replay whose session is ended at every batch after the 1st
    order = two_seller_order(shop_app, paid=True).order_id
    call_command("replay_projection", "shopping", stdout=io.StringIO())
    live = table_oid("projections_orderview"), OrderView.objects.get(id=order).status
    losing = LosingItsSession(at=lambda batch: batch >= 2)
    monkeypatch.setitem(
        REPLAYS, "shopping", Replay(projector=lambda: losing, tables=REPLAYS["shopping"].tables)
    )
    err = io.StringIO()
    # when
    with pytest.raises(CommandError) as failed:
        call_command(
            "replay_projection",
            "shopping",
            "--batch",
            "3",
            "--outage-timeout",
            "1",
            stdout=io.StringIO(),
            stderr=err,
        )
    # then
    assert failed.value.returncode == 1
    message = str(failed.value)
    assert message.startswith("shopping: a backing server stayed away for ")
    assert "(--outage-timeout 1)" in message
    assert message.endswith("the live read model is unchanged")
    assert losing.terminated >= 2
    assert "waiting (waited 0 s of 1 s), then continuing where it was" in err.getvalue()
    assert (table_oid("projections_orderview"), OrderView.objects.get(id=order).status) == live
    assert live[1] == "paid"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'replay_shopping'")
        assert cursor.fetchall() == [(0,)]
    assert replay_lock_free("shopping")


class PausedAtFirstBatch:
    """The shopping projector, holding its first batch until let go."""

    name = "shopping"
    aggregate_types = ShoppingProjector.aggregate_types

    def __init__(self) -> None:
        self.reached, self.go = threading.Event(), threading.Event()
        self.projector = ShoppingProjector()

    def apply(self, envelopes: list[dict[str, Any]]) -> None:
        self.reached.set()
        assert self.go.wait(timeout=60)
        self.projector.apply(envelopes)


def test_while_a_replay_runs_a_redrive_of_its_projector_and_a_second_replay_are_refused(
    shop_app: Shop,
) -> None:
    # given: a parked shopping event, and a replay of shopping under way
    two_seller_order(shop_app, paid=True)
    parked = park(
        "shopping",
        product_envelope(str(uuid.uuid4()), 1, 10**12, "ProductCreated", {}),
        "ValueError('bug')",
        attempts=3,
    )
    paused = PausedAtFirstBatch()
    replay = Replay(projector=lambda: paused, tables=REPLAYS["shopping"].tables)
    done: list[Any] = []

    def replay_in_thread() -> None:
        try:
            done.append(Replayer(shop_app, replay, f"{settings.TOPIC_PREFIX}shopping").run())
        finally:
            connection.close()

    thread = threading.Thread(target=replay_in_thread)
    thread.start()
    try:
        assert paused.reached.wait(timeout=60)
        # when / then: a redrive of its parked events is refused, and changes nothing
        with pytest.raises(CommandError, match="a replay of shopping is running") as redrive:
            call_command("parked", "redrive", str(parked.pk), stdout=io.StringIO())
        assert redrive.value.returncode == 1
        parked.refresh_from_db()
        assert (parked.status, parked.attempts) == ("parked", 3)
        # and so is a second replay
        with pytest.raises(CommandError, match="a replay of shopping is already running"):
            call_command("replay_projection", "shopping", stdout=io.StringIO())
    finally:
        paused.go.set()
        thread.join(timeout=120)
    # then: the first replay went on to the end
    assert [type(outcome).__name__ for outcome in done] == ["Outcome"]
    assert replay_lock_free("shopping")


def test_a_catalog_replay_waits_out_opensearch_away_then_builds_its_index(
    shop_app: Shop, isolated_namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(isolated_namespace, shop_app)
    with live_pipeline(shop_app, isolated_namespace) as pipeline:
        # given: projected products; OpenSearch away (nothing listens) for the first tries
        bought = two_seller_order(shop_app, paid=True)
        pipeline.wait_until_caught_up(timeout=60)
        ProductView.objects.filter(id=bought.mug).update(name="Damaged")
        [old_index] = pipeline.index.client.indices.get_alias(name=pipeline.index.alias)
        tries: list[str] = []

        def away_at_first() -> SearchIndex:
            tries.append("away" if len(tries) < 2 else "back")
            if tries[-1] == "away":
                away = OpenSearch(hosts=[f"http://127.0.0.1:{closed_port()}"], max_retries=0)
                return SearchIndex(away, isolated_namespace)
            return SearchIndex(opensearch_client(), isolated_namespace)

        monkeypatch.setattr(catalog_replay, "batch_search_index", away_at_first)
        err = io.StringIO()
        # when
        call_command("replay_projection", "catalog", stdout=io.StringIO(), stderr=err)
        pipeline.wait_until_caught_up(timeout=60)
        # then: it waited, saying so, and the rows and the index equal a fold of the store
        assert tries == ["away", "away", "back"]
        assert "replay catalog: a backing server is away (ConnectionError(" in err.getvalue()
        want, _ = rebuilt(shop_app)
        found = differences(want, stored(database))
        assert {m: found.get(m) for m in ("products", "documents")} == {
            "products": None,
            "documents": None,
        }
        assert ProductView.objects.get(id=bought.mug).name == "Mug"
        [new_index] = pipeline.index.client.indices.get_alias(name=pipeline.index.alias)
        assert new_index != old_index


def test_a_replay_whose_lock_is_taken_while_its_session_is_lost_stops_and_leaves_it(
    shop_app: Shop,
) -> None:
    # given: a replay whose session ends at its 2nd batch, when another session (a second
    # replay, say) takes the lock it held, and with it the generation's schema
    for _ in range(2):
        two_seller_order(shop_app, paid=True)
    oid = table_oid("projections_orderview")
    with plain_connection() as other:
        other.autocommit = True

        def taken_meanwhile(batch: int) -> bool:
            if batch == 2:
                terminate(connection.connection.info.backend_pid)
                other.execute("SELECT pg_advisory_lock(hashtext('replay'), hashtext('shopping'))")
                other.execute("COMMENT ON SCHEMA replay_shopping IS 'the other replay'")
            return False

        losing = LosingItsSession(at=taken_meanwhile)
        replay = Replay(projector=lambda: losing, tables=REPLAYS["shopping"].tables)
        try:
            # when / then
            with pytest.raises(ReplayFailed, match="its replay lock was lost with the connection"):
                Replayer(shop_app, replay, f"{settings.TOPIC_PREFIX}shopping", batch=5).run()
            # the other keeps the lock and its schema; the live table stays
            assert not replay_lock_free("shopping")
            [(comment,)] = other.execute(
                "SELECT obj_description('replay_shopping'::regnamespace, 'pg_namespace')"
            ).fetchall()
            assert comment == "the other replay"
            assert table_oid("projections_orderview") == oid
        finally:
            other.execute("DROP SCHEMA IF EXISTS replay_shopping CASCADE")
