"""Move the relay's checkpoint so that it re-publishes the log from a position, and follow it."""

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from adapters.progress import reporting
from projections.catch_up import follow_checkpoint
from projections.relay import load_position, save_position
from write_api.application import shop

STALL_SECONDS = 30.0


class Command(BaseCommand):
    help = (
        "Set the relay checkpoint (default 0: re-publish everything), then follow the relay's"
        " re-publish up to the store's head with count, rate and ETA."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--position", type=int, default=0)
        parser.add_argument(
            "--no-follow", action="store_true", help="set the checkpoint and return at once"
        )
        parser.add_argument(
            "--stall-seconds",
            type=float,
            default=STALL_SECONDS,
            help=f"give up (exit 1) when the relay records no progress for this long"
            f" (default {STALL_SECONDS:g})",
        )

    def handle(self, *args: object, **options: Any) -> None:
        position, stall = options["position"], options["stall_seconds"]
        if stall <= 0:
            raise CommandError("--stall-seconds must be above 0")
        name = f"{settings.TOPIC_PREFIX}relay"
        head = shop().recorder.max_notification_id() or 0
        save_position(name, position)
        behind = max(0, head - position)
        self.stdout.write(
            f"relay checkpoint set to {position}: {behind} events to re-publish up to"
            f" position {head}; a running relay starts over from there within a second,"
            " a stopped one when it starts"
        )
        if options["no_follow"] or not behind:
            return
        stream = options.get("stdout") or sys.stdout  # raw: a bar is redrawn in place
        with reporting(stream, unit="events", description="relay re-publish") as progress:
            reached = follow_checkpoint(
                lambda: load_position(name), position, head, progress, stall
            )
        if reached < head:
            raise CommandError(
                f"the relay recorded no progress for {stall:g} s (at position {reached} of"
                f" {head}): it seems not to be running. Start it (`make up`, `docker compose"
                " up -d relay` or `manage.py run_relay`); it re-publishes from its checkpoint,"
                " which stays set"
            )
        self.stdout.write(f"the relay re-published {behind} events up to position {head}")
