"""Replay one projector from the event store into a new generation and switch it in."""

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from adapters.progress import Progress
from projections.registry import NOT_REPLAYABLE, REPLAYS
from projections.replay.patience import OUTAGE_TIMEOUT_SECONDS
from projections.replay.replayer import BATCH, Replay, Replayer, ReplayFailed
from write_api.application import shop


class Command(BaseCommand):
    help = (
        "Rebuild one projector's read model from the event store while the system serves: "
        "into new tables, switched in atomically once caught up. No email or task is sent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help=f"one of {', '.join(sorted(REPLAYS))}")
        parser.add_argument("--batch", type=int, default=BATCH, help="events per apply and commit")
        parser.add_argument(
            "--outage-timeout",
            type=float,
            default=OUTAGE_TIMEOUT_SECONDS,
            help="seconds to wait out one outage of a backing server before giving up",
        )

    def handle(self, *args: object, **options: Any) -> None:
        name, batch = options["name"], options["batch"]
        replay = replay_named(name)
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        if options["outage_timeout"] < 0:
            raise CommandError("--outage-timeout must not be negative")
        # The raw stream, not self.stdout: its wrapper ends every write with a newline,
        # which would break a bar redrawn in place.
        stream = options.get("stdout") or sys.stdout
        progress = Progress(stream, unit="events", description=f"replay {name}")
        index = None
        if replay.after_switch is not None:  # the catalog's search index, after its rows
            index = Progress(stream, unit="documents", description="index")
        checkpoint = f"{settings.TOPIC_PREFIX}{name}"
        try:
            outcome = Replayer(
                shop(),
                replay,
                checkpoint,
                batch,
                progress,
                index,
                outage_timeout=options["outage_timeout"],
                notice=self.stderr.write,
            ).run()
        except ReplayFailed as error:
            raise CommandError(str(error)) from None
        finally:
            progress.close()
            if index is not None:
                index.close()
        self.stdout.write(
            f"{name}: {outcome.events} events replayed up to position {outcome.head} in "
            f"{outcome.seconds:.1f} s ({outcome.rate:.0f} events/s); the new read model is live"
        )


def replay_named(name: str) -> Replay:
    if name in REPLAYS:
        return REPLAYS[name]
    if name in NOT_REPLAYABLE:
        raise CommandError(f"{name} cannot be replayed: {NOT_REPLAYABLE[name]}")
    known = ", ".join(sorted(REPLAYS))
    raise CommandError(f"no projector named {name!r}: replayable projectors are {known}")
