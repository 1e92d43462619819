"""Operate parked events: list, show, redrive, skip (the admin offers the same actions)."""

from __future__ import annotations

import getpass
import json
import sys
from argparse import RawDescriptionHelpFormatter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from adapters.outages import is_outage
from adapters.progress import reporting
from projections.models import ParkedEvent
from projections.parked_events import (
    NotParked,
    ParkedEventsMissing,
    RedriveResult,
    parked_events,
    redrive,
    skip,
)
from projections.parking import original_envelope
from projections.registry import build_projector
from projections.replay.guard import ReplayRunning

HELP = """Events a projector could not apply are parked, never skipped silently; later events
of the same aggregate park behind them, so the aggregate's read rows are held back.

  parked list [--status parked|redriven|skipped|all] [--projector NAME]
  parked show ID
  parked redrive ID [ID ...]   re-apply, in position order, every event still parked for
                               each given event's aggregate (and projector); stops at the
                               first that fails again, which keeps the new error
  parked redrive --all         the same for every aggregate with parked events, reporting
                               progress (count, rate, ETA)
  parked skip ID [ID ...] --reason TEXT
                               record that these will never be applied (nothing deleted)

To release events parked behind one that can never apply: skip that one with a reason,
then redrive any event of the aggregate; skipped events are passed over.
A redrive is refused while a replay of the same projector runs (manage.py
replay_projection): that replay holds the projector's lock.
Exit code 1 when an id does not exist or is not parked, when a server is away, when
a replay of the projector runs, or when a redriven event still fails."""


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="list parked events")
        listing.add_argument("--status", default=ParkedEvent.PARKED)
        listing.add_argument("--projector")
        actions.add_parser("show", help="one event, its error and envelope").add_argument(
            "id", type=int
        )
        redriving = actions.add_parser("redrive", help="re-apply parked events")
        redriving.add_argument("ids", type=int, nargs="*")
        redriving.add_argument("--all", action="store_true")
        skipping = actions.add_parser("skip", help="record that events will never be applied")
        skipping.add_argument("ids", type=int, nargs="+")
        skipping.add_argument("--reason", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except (ParkedEventsMissing, NotParked, ReplayRunning, ValueError) as refused:
            raise CommandError(str(refused)) from None
        except Exception as error:
            if is_outage(error):
                raise CommandError(
                    f"a server is away; stopped, and what was not done stays parked: {error!r}"
                ) from None
            raise

    def _list(self, options: dict[str, Any]) -> None:
        events = ParkedEvent.objects.all()
        if options["status"] != "all":
            events = events.filter(status=options["status"])
        if options["projector"]:
            events = events.filter(projector=options["projector"])
        for event in events:
            first_line = event.error.splitlines()[0] if event.error else ""
            self.stdout.write(
                f"{event.pk}\t{event.status}\t{event.projector}\t{event.aggregate_id}\t"
                f"{event.position}\t{event.attempts}\t{event.parked_at:%Y-%m-%d %H:%M:%S}\t"
                f"{first_line[:120]}"
            )
        self.stdout.write(f"{events.count()} {options['status']}")

    def _show(self, options: dict[str, Any]) -> None:
        [event] = parked_events([options["id"]])
        fields = ["id", "projector", "aggregate_id", "position", "status", "attempts", "source"]
        fields += ["parked_at", "resolved_at", "resolved_by", "reason", "error"]
        for name in fields:
            self.stdout.write(f"{name}: {getattr(event, name)}")
        self.stdout.write("envelope:")
        self.stdout.write(json.dumps(original_envelope(event), indent=2, sort_keys=True))

    def _redrive(self, options: dict[str, Any]) -> None:
        if options["all"] == bool(options["ids"]):
            raise CommandError("give event ids or --all, not both")
        if options["all"]:  # ids are typed by hand: few aggregates, and maybe a typo's error
            stream = options.get("stdout") or sys.stdout  # raw: a bar is redrawn in place
            with reporting(stream, unit="aggregates", description="redrive") as progress:
                results = redrive(None, build_projector, _by(), progress)
        else:
            results = redrive(options["ids"], build_projector, _by())
        for result in results:
            self.stdout.write(_describe(result))
        failed = [r for r in results if r.failed is not None]
        if failed:
            raise CommandError(f"{len(failed)} aggregates still have parked events")

    def _skip(self, options: dict[str, Any]) -> None:
        events = skip(options["ids"], options["reason"], _by())
        self.stdout.write(f"skipped {', '.join(f'#{e.pk}' for e in events)}")


def _by() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in some containers
        return "cli"


def _describe(result: RedriveResult) -> str:
    head = f"{result.projector} {result.aggregate_id}: "
    done = f"redriven {', '.join(f'#{i}' for i in result.redriven) or 'none'}"
    if result.failed is None:
        return head + done
    behind = ", ".join(f"#{i}" for i in result.still_parked) or "none"
    return f"{head}{done}; #{result.failed} still fails ({result.error}); parked behind: {behind}"
