"""The Django side of bench/export.py, run as a child with DATABASE_URL set to its scratch
database.

    export_scratch.py prepare            the schema as a deployment gets it (prepare_stack's
                                         path): migrations, then the event store's table made
                                         by the eventsourcing recorder itself
    export_scratch.py explain A T        EXPLAIN (ANALYZE, BUFFERS) of the audit-hole query
                                         over positions (A, T], as one export chunk runs it
    export_scratch.py checks A T R       first_hole over (A, T], one export chunk at a time
                                         as an export runs it, R rounds: seconds per round
    export_scratch.py unchecked ARGS...  `manage.py ARGS...` with the audit-hole check
                                         switched off: the ablation, never production code
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings.write_api")


def prepare() -> None:
    from django.core.management import call_command

    from write_api.application import create_event_store_tables

    call_command("migrate", interactive=False, verbosity=0)
    create_event_store_tables().close()


def explain(after: int, through: int) -> None:
    from django.db import connection

    from projections.audit.horizon import FIRST_HOLE
    from projections.models import ParkedEvent

    params = {"after": after, "through": through, "skipped": ParkedEvent.SKIPPED}
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + FIRST_HOLE, params)
        print("\n".join(row[0] for row in cursor.fetchall()))


def checks(after: int, through: int, rounds: int) -> None:
    from projections.audit.horizon import first_hole
    from read_api.event_export import CHUNK_SIZE

    for _ in range(rounds):
        started = time.perf_counter()
        for last in range(after, through, CHUNK_SIZE):
            assert first_hole(last, min(last + CHUNK_SIZE, through)) is None
        print(f"{time.perf_counter() - started:.4f}")


def unchecked(argv: list[str]) -> None:
    from django.core.management import execute_from_command_line

    import read_api.event_export
    from infra.tracing import configure_tracing

    # complete_part looks first_hole up in its module at every chunk.
    read_api.event_export.first_hole = lambda after, through: None
    configure_tracing()  # as manage.py does
    execute_from_command_line(["manage.py", *argv])


def main() -> None:
    import django

    django.setup()
    command, *rest = sys.argv[1:]
    if command == "prepare":
        prepare()
    elif command == "explain":
        explain(int(rest[0]), int(rest[1]))
    elif command == "checks":
        checks(int(rest[0]), int(rest[1]), int(rest[2]))
    elif command == "unchecked":
        unchecked(rest)
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main()
