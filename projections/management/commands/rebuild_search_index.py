"""Rebuild the product index from the event store into a new generation and swap the alias."""

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from adapters.clients import opensearch_client
from adapters.progress import Progress
from projections.catalog.rebuild import rebuild_search_index
from projections.catalog.search_index import SearchIndex
from write_api.application import shop

# An operator's batch job, not a shopper's request: a search server slowed by a busy
# machine must not fail the whole rebuild halfway.
BATCH_TIMEOUT_SECONDS = 60.0


class Command(BaseCommand):
    help = "Index every product from the event store into products_vN+1, then swap the alias."

    def handle(self, *args: object, **options: Any) -> None:
        # The raw stream, not self.stdout: its wrapper ends every write with a newline,
        # which would break a bar redrawn in place.
        stream = options.get("stdout") or sys.stdout
        progress = Progress(stream, unit="documents", description="rebuild")
        index = SearchIndex(opensearch_client(BATCH_TIMEOUT_SECONDS), settings.SHOPSTREAM_NAMESPACE)
        try:
            generation = rebuild_search_index(shop(), index, progress)
        finally:
            progress.close()
        self.stdout.write(f"{index.alias} -> {generation}")
