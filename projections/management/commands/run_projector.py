"""Run projectors, each in its own consumer group and thread, until SIGTERM."""

import threading

from django import db
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from adapters.clients import kafka_consumer
from adapters.metrics_endpoint import serve_metrics
from adapters.signals import stop_on_signals
from projections.consumer import ProjectionRunner
from projections.membership import member_options
from projections.progress import version_announcer
from projections.registry import PROJECTORS


class Command(BaseCommand):
    help = "Consume Kafka and keep projectors' read models up to date (all of them by default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("projectors", nargs="*", help=f"any of {', '.join(sorted(PROJECTORS))}")

    def handle(self, *args: object, **options: list[str]) -> None:
        unknown = set(options["projectors"]) - set(PROJECTORS)
        if unknown:
            raise CommandError(f"unknown projectors: {', '.join(sorted(unknown))}")
        stop = stop_on_signals()
        serve_metrics()
        failures: list[BaseException] = []
        threads = [
            threading.Thread(target=self.run_one, args=(name, stop, failures), name=name)
            for name in options["projectors"] or sorted(PROJECTORS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise CommandError(f"a projector failed: {failures[0]!r}")

    @staticmethod
    def run_one(name: str, stop: threading.Event, failures: list[BaseException]) -> None:
        """One projector's loop; if it dies, stop the others so the process restarts whole."""
        projector = PROJECTORS[name]()
        prefix = settings.TOPIC_PREFIX
        consumer = kafka_consumer(
            f"{prefix}{projector.name}",
            ProjectionRunner.topics(projector, prefix),
            **member_options(),
        )
        try:
            announce = version_announcer(settings.SHOPSTREAM_NAMESPACE)
            ProjectionRunner(projector, consumer, prefix, announce).run(stop)
        except BaseException as error:
            failures.append(error)
            stop.set()
            raise
        finally:
            consumer.close()
            db.connections.close_all()
