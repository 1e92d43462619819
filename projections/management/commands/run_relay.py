"""Run the relay: event store notification log -> Kafka, until SIGTERM."""

from django.conf import settings
from django.core.management.base import BaseCommand

from adapters.clients import kafka_producer
from adapters.metrics_endpoint import serve_metrics
from adapters.signals import stop_on_signals
from projections.relay import Relay
from write_api.application import shop


class Command(BaseCommand):
    help = "Publish stored events to Kafka in log order (at-least-once)."

    def handle(self, *args: object, **options: object) -> None:
        stop = stop_on_signals()
        serve_metrics()
        producer = kafka_producer()
        try:
            Relay(shop(), producer, settings.TOPIC_PREFIX).run(stop)
        finally:
            producer.close(timeout=5)
