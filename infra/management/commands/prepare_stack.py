"""Make a deployment ready: schema, event store, topics, search alias, first admin.

Idempotent: run at every start. Because a local broker and search server keep
nothing, it re-publishes and re-indexes from the event store what they lack.
"""

import sys
from typing import Any, TextIO

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from adapters.clients import kafka_admin, kafka_consumer, opensearch_client
from adapters.progress import reporting
from projections.catalog.rebuild import rebuild_search_index
from projections.catalog.search_index import SearchIndex
from projections.topics import ensure_topics, republish_if_broker_lost_events
from write_api.accounts.services import bootstrap_admin
from write_api.application import create_event_store_tables
from write_api.domain.metadata import SYSTEM


class Command(BaseCommand):
    help = "Migrate, create event-store tables, topics and the search alias; bootstrap an admin."

    def handle(self, *args: object, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        app = create_event_store_tables()
        self.stdout.write(f"event store head: {app.recorder.max_notification_id() or 0}")
        self._prepare_topics()
        # The raw stream: a progress bar is redrawn in place.
        self._prepare_search_index(app, options.get("stdout") or sys.stdout)
        if settings.SHOPSTREAM_ADMIN_EMAIL and settings.SHOPSTREAM_ADMIN_PASSWORD:
            created = bootstrap_admin(
                app, settings.SHOPSTREAM_ADMIN_EMAIL, settings.SHOPSTREAM_ADMIN_PASSWORD, SYSTEM
            )
            self.stdout.write(
                f"admin {settings.SHOPSTREAM_ADMIN_EMAIL}: {'created' if created else 'exists'}"
            )

    def _prepare_topics(self) -> None:
        admin = kafka_admin()
        try:
            created = ensure_topics(admin, settings.TOPIC_PREFIX, settings.KAFKA_PARTITIONS)
        finally:
            admin.close()
        self.stdout.write(f"topics created: {created or 'none'}")
        consumer = kafka_consumer(None, [])
        try:
            if republish_if_broker_lost_events(consumer, settings.TOPIC_PREFIX):
                self.stdout.write("broker lacks published events: the relay re-publishes from 0")
        finally:
            consumer.close()

    def _prepare_search_index(self, app: object, stream: TextIO) -> None:
        index = SearchIndex(opensearch_client(), settings.SHOPSTREAM_NAMESPACE)
        if index.exists() and not index.is_outdated():
            return
        with reporting(stream, unit="documents", description="rebuild") as progress:
            generation = rebuild_search_index(app, index, progress)  # type: ignore[arg-type]
        self.stdout.write(f"search index built from the event store: {generation}")
