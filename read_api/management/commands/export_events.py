"""Export the event history to a file: NDJSON, CSV or Parquet, in store order, resumable."""

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from adapters.progress import Progress
from read_api.event_export import EventFilters
from read_api.event_params import FULL, PSEUDONYMISED, EventFilterParams, filters_of
from read_api.export_files import FORMATS, export_to_file, resume_position
from read_api.history import event_count

FILTERS = ("type", "aggregate_type", "aggregate_id", "since", "until")


class Command(BaseCommand):
    help = (
        "Write the matching events, in store order, to a file (constant memory). Personal "
        "data is pseudonymised unless --personal=full. Prints the last position written: "
        "continue a cut run with --after (or --resume for NDJSON and CSV)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=FORMATS, required=True)
        parser.add_argument("--out", type=Path, required=True, help="the file to write")
        parser.add_argument("--after", type=int, default=0, help="only events after this position")
        parser.add_argument(
            "--resume",
            action="store_true",
            help="append to --out after its last complete event (ndjson, csv)",
        )
        parser.add_argument("--personal", choices=[PSEUDONYMISED, FULL], default=PSEUDONYMISED)
        for name in FILTERS:
            parser.add_argument(f"--{name.replace('_', '-')}", dest=name, default=None)

    def handle(self, *args: object, **options: Any) -> None:
        format_, out = options["format"], options["out"]
        after = options["after"]
        if options["resume"]:
            if format_ == "parquet":
                raise CommandError("A Parquet file cannot be appended to: use --after.")
            if out.exists():
                after = resume_position(format_, out)
        filters = _filters(options, after)
        key = None if options["personal"] == FULL else settings.PSEUDONYM_KEY
        stream = options.get("stdout") or sys.stdout  # raw: the bar is redrawn in place
        progress = Progress(stream, unit="events", description="export")
        total = event_count(filters, after=after)
        try:
            written = export_to_file(
                format_,
                out,
                filters,
                after=after,
                key=key,
                progress=lambda done: progress(done, total),
                append=options["resume"],
            )
        finally:
            progress.close()
        self.stdout.write(f"wrote {written.rows} events to {out}; last position {written.last}")


def _filters(options: dict[str, Any], after: int) -> EventFilters:
    """The filters, validated as the HTTP export validates them."""
    given = {name: options[name] for name in FILTERS if options[name] is not None}
    params = EventFilterParams(data={**given, "after": after})
    if not params.is_valid():
        problems = "; ".join(
            f"{field}: {' '.join(map(str, errs))}" for field, errs in params.errors.items()
        )
        raise CommandError(f"Bad filters: {problems}")
    return filters_of(params.validated_data)
