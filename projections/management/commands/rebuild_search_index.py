"""Rebuild the product index from the event store into a new generation and swap the alias."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from adapters.clients import opensearch_client
from projections.catalog.rebuild import rebuild_search_index
from projections.catalog.search_index import SearchIndex
from write_api.application import shop

# An operator's batch job, not a shopper's request: a search server slowed by a busy
# machine must not fail the whole rebuild halfway.
BATCH_TIMEOUT_SECONDS = 60.0


class Command(BaseCommand):
    help = "Index every product from the event store into products_vN+1, then swap the alias."

    def handle(self, *args: object, **options: object) -> None:
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed else 0.0
            eta = (total - done) / rate if rate else 0.0
            self.stdout.write(
                f"\r{done}/{total} documents  {rate:.0f}/s  ETA {eta:.0f} s", ending=""
            )

        index = SearchIndex(opensearch_client(BATCH_TIMEOUT_SECONDS), settings.SHOPSTREAM_NAMESPACE)
        generation = rebuild_search_index(shop(), index, progress)
        self.stdout.write(f"\n{index.alias} -> {generation}")
