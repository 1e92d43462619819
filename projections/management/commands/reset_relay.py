"""Move the relay's checkpoint back so that it re-publishes the log from a position."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from projections.relay import save_position
from write_api.application import shop


class Command(BaseCommand):
    help = "Set the relay checkpoint (default 0: re-publish everything at the relay's next start)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--position", type=int, default=0)

    def handle(self, *args: object, **options: int) -> None:
        position = options["position"]
        save_position(f"{settings.TOPIC_PREFIX}relay", position)
        behind = max(0, (shop().recorder.max_notification_id() or 0) - position)
        self.stdout.write(
            f"relay checkpoint set to {position}: {behind} events to re-publish; restart the"
            " relay, which reports its progress up to the head it finds"
        )
