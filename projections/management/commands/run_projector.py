"""Run one projector in its own consumer group until SIGTERM."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from infra.clients import kafka_consumer, kafka_producer, opensearch_client
from infra.signals import stop_on_signals
from projections.catalog.projector import CatalogProjector
from projections.catalog.search_index import SearchIndex
from projections.consumer import ProjectionRunner

PROJECTORS = {
    "catalog": lambda: CatalogProjector(
        SearchIndex(opensearch_client(), settings.SHOPSTREAM_NAMESPACE)
    ),
}


class Command(BaseCommand):
    help = "Consume Kafka and keep one projector's read models up to date."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("projector", choices=sorted(PROJECTORS))

    def handle(self, *args: object, **options: str) -> None:
        stop = stop_on_signals()
        projector = PROJECTORS[options["projector"]]()
        prefix = settings.TOPIC_PREFIX
        consumer = kafka_consumer(
            f"{prefix}{projector.name}", ProjectionRunner.topics(projector, prefix)
        )
        dead_letters = kafka_producer()
        try:
            ProjectionRunner(projector, consumer, dead_letters, prefix).run(stop)
        finally:
            consumer.close()
            dead_letters.close(timeout=5)
