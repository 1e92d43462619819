"""A new generation of a projector's read tables, built beside the live ones, then switched in.

The generation lives in its own PostgreSQL schema (`replay_<projector>`): each table is
created like its live one (columns, defaults, identity, checks), with the same names for
its primary key, unique constraints and indexes, so that once switched in nothing tells it
from a table the migrations made. Foreign keys are added after the bulk load (one check per
table instead of one per row). Writes go to the generation by putting its schema first on
the search path: the projector's own ORM code writes to it unchanged.

`switch` runs inside the caller's transaction: the live tables are dropped and the new ones
moved into their place, so readers see the old tables until the commit, then the new ones.
Scratch tables (say, the cache-bump outbox while replaying the catalog) take writes a replay
must not make for real; they are dropped with the schema, never switched in. So is the
generation's progress row, written with each batch: after an outage the replay resumes
from what the generation holds, whether or not the last commit got through.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

LIVE_SCHEMA = "public"
PROGRESS = "replay_progress"
TABLE_PARTS = (
    "INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS INCLUDING GENERATED "
    "INCLUDING STORAGE INCLUDING COMMENTS"
)
CONSTRAINTS = (
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = %s::regclass AND contype::text = ANY(%s) ORDER BY conname"
)
# Indexes that back no constraint (constraints bring their own).
INDEXES = (
    "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = %s::regclass "
    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
    "ORDER BY i.indexrelid"
)
# Foreign keys from other tables into these: a switch would leave them on the dropped tables.
REFERENCES_IN = (
    "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint "
    "WHERE contype = 'f' AND confrelid = ANY(%s::regclass[]) AND NOT conrelid = ANY(%s::regclass[])"
)


@dataclass(frozen=True)
class Generation:
    """The shadow schema of one projector's read tables (names come from code, never input)."""

    schema: str
    tables: tuple[str, ...]
    scratch: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, projector: str, tables: tuple[str, ...], scratch: tuple[str, ...] = ()
    ) -> Generation:
        return cls(f"replay_{projector}", tables, scratch)

    def create(self) -> None:
        """A fresh, empty generation: whatever an aborted replay left is dropped first."""
        self._refuse_references_in()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
            cursor.execute(f'CREATE SCHEMA "{self.schema}"')
            for table in (*self.tables, *self.scratch):
                new = self._new(table)
                cursor.execute(f"CREATE TABLE {new} (LIKE {_live(table)} {TABLE_PARTS})")
                for name, definition in _constraints(cursor, table, "pux"):
                    cursor.execute(f'ALTER TABLE {new} ADD CONSTRAINT "{name}" {definition}')
                for definition in _indexes(cursor, table):
                    cursor.execute(self._moved_index(table, definition))
            cursor.execute(
                f'CREATE TABLE "{self.schema}".{PROGRESS} '
                "(position bigint NOT NULL, applied bigint NOT NULL, batches integer NOT NULL)"
            )
            cursor.execute(f'INSERT INTO "{self.schema}".{PROGRESS} VALUES (0, 0, 0)')  # noqa: S608

    def record(self, position: int, applied: int, batches: int) -> None:
        """Within a batch's transaction: the generation holds every event up to `position`."""
        with connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{self.schema}".{PROGRESS} '  # noqa: S608 - names come from code
                "SET position = %s, applied = %s, batches = %s",
                [position, applied, batches],
            )

    def progress(self) -> tuple[int, int, int] | None:
        """(position, events applied, batches) as committed; None if there is no generation."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [f'"{self.schema}".{PROGRESS}'])
            [(table,)] = cursor.fetchall()
            if table is None:
                return None
            cursor.execute(f'SELECT position, applied, batches FROM "{self.schema}".{PROGRESS}')  # noqa: S608
            [(position, applied, batches)] = cursor.fetchall()
        return int(position), int(applied), int(batches)

    def add_foreign_keys(self) -> None:
        """The live tables' foreign keys, pointing within the generation where they can
        (those it has already are kept: a retry after an outage may find them)."""
        with transaction.atomic(), connection.cursor() as cursor:
            for table in self.tables:
                cursor.execute(CONSTRAINTS, [self._new(table), ["f"]])
                added = {name for name, _ in cursor.fetchall()}
                for name, definition in _constraints(cursor, table, "f"):
                    if name in added:
                        continue
                    cursor.execute(
                        f'ALTER TABLE {self._new(table)} ADD CONSTRAINT "{name}" '
                        f"{self._references_moved(definition)}"
                    )

    def analyze(self) -> None:
        """Statistics for the planner: the tables grow from empty while replayed into."""
        with connection.cursor() as cursor:
            for table in self.tables:
                cursor.execute(f"ANALYZE {self._new(table)}")

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One transaction whose unqualified table names are the generation's."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('search_path')")
            [(before,)] = cursor.fetchall()
            cursor.execute(f'SET LOCAL search_path TO "{self.schema}", {LIVE_SCHEMA}')
            yield
            # Within a caller's transaction (the switch), later statements mean the live tables.
            cursor.execute("SELECT set_config('search_path', %s, true)", [before])

    def switch(self) -> None:
        """Within the caller's transaction: drop the live tables, move the new ones in."""
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {', '.join(_live(t) for t in self.tables)}")
            for table in self.tables:
                cursor.execute(f"ALTER TABLE {self._new(table)} SET SCHEMA {LIVE_SCHEMA}")
            cursor.execute(f'DROP SCHEMA "{self.schema}" CASCADE')

    def drop(self) -> None:
        """Give up the generation (an aborted replay): the live tables are untouched."""
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def _new(self, table: str) -> str:
        return f'"{self.schema}"."{table}"'

    def _moved_index(self, table: str, definition: str) -> str:
        moved, count = re.subn(
            rf" ON (ONLY )?{LIVE_SCHEMA}\.\"?{table}\"? ", f" ON \\1{self._new(table)} ", definition
        )
        if count != 1:
            raise RuntimeError(f"cannot move index definition: {definition}")
        return moved

    def _references_moved(self, definition: str) -> str:
        def target(match: re.Match[str]) -> str:
            table = match.group(2)
            return f"REFERENCES {self._new(table) if table in self.tables else _live(table)}("

        return re.sub(rf"REFERENCES ({LIVE_SCHEMA}\.)?\"?(\w+)\"?\(", target, definition)

    def _refuse_references_in(self) -> None:
        live = [f"{LIVE_SCHEMA}.{t}" for t in self.tables]
        with connection.cursor() as cursor:
            cursor.execute(REFERENCES_IN, [live, live])
            outside = cursor.fetchall()
        if outside:
            raise RuntimeError(f"tables outside the replay refer to its tables: {outside}")


def _live(table: str) -> str:
    return f'{LIVE_SCHEMA}."{table}"'


def _constraints(cursor: CursorWrapper, table: str, kinds: str) -> list[tuple[str, str]]:
    cursor.execute(CONSTRAINTS, [_live(table), list(kinds)])
    return list(cursor.fetchall())


def _indexes(cursor: CursorWrapper, table: str) -> list[str]:
    cursor.execute(INDEXES, [_live(table)])
    return [definition for (definition,) in cursor.fetchall()]
