"""Run the relay: event store notification log -> Kafka, until SIGTERM."""

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from adapters.clients import kafka_producer
from adapters.metrics_endpoint import serve_metrics
from adapters.signals import stop_on_signals
from projections.catch_up import catch_up_reporter
from projections.relay import Relay
from write_api.application import shop


class Command(BaseCommand):
    help = "Publish stored events to Kafka in log order (at-least-once)."

    def handle(self, *args: object, **options: Any) -> None:
        stop = stop_on_signals()
        serve_metrics()
        producer = kafka_producer()
        try:
            # Far behind the head (a replay) when it starts reading, or when an operator
            # moved its checkpoint back: progress up to that head. The raw stream, as a bar
            # redrawn in place must not get self.stdout's newline after every write.
            stream = options.get("stdout") or sys.stdout
            relay = Relay(
                shop(),
                producer,
                settings.TOPIC_PREFIX,
                on_start=lambda start, head: catch_up_reporter(start, head, stream),
            )
            relay.run(stop)
        finally:
            producer.close(timeout=5)
