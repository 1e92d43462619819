"""Many rows updated in one statement, each to its own values: `UPDATE ... FROM unnest(...)`.

Django's `bulk_update` builds a CASE expression per row and field, whose compilation cost
most of a large batch (a replay's, a backlog's); here each column travels as one array
parameter, converted by the model's own fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model


def update_rows(model: type[Model], rows: Sequence[Model], fields: Sequence[str]) -> int:
    """Set `fields` of each row (matched by primary key) to its in-memory values."""
    if not rows:
        return 0
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    arrays: list[list[Any]] = [
        [column.get_db_prep_save(getattr(row, column.attname), connection) for row in rows]  # type: ignore[union-attr]
        for column in columns
    ]
    names = [column.column for column in columns]  # type: ignore[union-attr]
    casts = ", ".join(f"%s::{column.db_type(connection)}[]" for column in columns)  # type: ignore[union-attr]
    sets = ", ".join(f'"{name}" = v."{name}"' for name in names[1:])
    quoted = ", ".join(f'"{name}"' for name in names)
    sql = (
        f'UPDATE "{meta.db_table}" AS t SET {sets} FROM unnest({casts}) AS v({quoted}) '  # noqa: S608 - names from the model
        f'WHERE t."{names[0]}" = v."{names[0]}"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return int(cursor.rowcount)
