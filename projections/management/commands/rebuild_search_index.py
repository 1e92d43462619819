"""Rebuild the product index from the event store into a new generation and swap the alias."""

import sys
from typing import Any

from django.core.management.base import BaseCommand

from adapters.progress import Progress
from projections.catalog.rebuild import rebuild_search_index
from projections.catalog.replay import batch_search_index
from write_api.application import shop


class Command(BaseCommand):
    help = "Index every product from the event store into products_vN+1, then swap the alias."

    def handle(self, *args: object, **options: Any) -> None:
        # The raw stream, not self.stdout: its wrapper ends every write with a newline,
        # which would break a bar redrawn in place.
        stream = options.get("stdout") or sys.stdout
        progress = Progress(stream, unit="documents", description="rebuild")
        index = batch_search_index()
        try:
            generation = rebuild_search_index(shop(), index, progress)
        finally:
            progress.close()
        self.stdout.write(f"{index.alias} -> {generation}")
