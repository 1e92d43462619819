"""Run the relay: event store notification log -> Kafka, until SIGTERM."""

from django.conf import settings
from django.core.management.base import BaseCommand

from infra.clients import kafka_producer
from infra.event_store import shop
from infra.signals import stop_on_signals
from projections.relay import Relay


class Command(BaseCommand):
    help = "Publish stored events to Kafka in log order (at-least-once)."

    def handle(self, *args: object, **options: object) -> None:
        stop = stop_on_signals()
        producer = kafka_producer()
        try:
            Relay(shop(), producer, settings.TOPIC_PREFIX).run(stop)
        finally:
            producer.close(timeout=5)
