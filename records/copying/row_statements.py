"""Many result rows written at once: a new job's rows inserted, a batch's answers recorded.

SQLite runs a prepared statement in this process, so executemany (the statement once per row)
costs microseconds a row. On PostgreSQL each row of an executemany is a statement the server
parses, plans and answers (pipelined, still ~0.1 ms a row): a 5,000-record job's rows took 0.67 s
to insert and a batch's 500 answers 70–90 ms on the run's thread, five times what the server's
own work was (~35 µs a row inserted, ~25 µs updated). There the rows go as one array per column,
unnested by one statement, in the rows' order (the ids follow it, as the run reads rows by id).
What a column accepts is checked as for a plain INSERT or UPDATE: the arrays' element types
carry no length, so a value too long for its column still fails rather than being cut.
(The statements name only the model's own table and columns; every value is a parameter.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import Field
from django.db.models.constants import OnConflict

# A column type's modifiers ("varchar(200)" → "varchar"): the array's elements must not truncate.
_MODIFIERS = re.compile(r"\(\s*\d+(?:\s*,\s*\d+)?\s*\)")


def insert_ignoring(table: str, fields: list[Field[Any, Any]], rows: list[list[Any]]) -> None:
    """Insert `rows` (each the `fields`' values, in order), skipping any that conflict with a row
    already there or inserted before it by this statement. In the caller's transaction."""
    qn = connection.ops.quote_name
    columns = ", ".join(qn(str(f.column)) for f in fields)
    ignore = connection.ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)
    if not _arrays():
        slots = ", ".join(["%s"] * len(fields))
        insert = connection.ops.insert_statement(on_conflict=OnConflict.IGNORE)
        with connection.cursor() as cursor:
            cursor.executemany(f"{insert} {qn(table)} ({columns}) VALUES ({slots}) {ignore}", rows)
        return
    names = ", ".join(f"c{i}" for i in range(len(fields)))
    unnest = f"unnest({_array_slots(fields)}) WITH ORDINALITY AS v({names}, position)"
    sql = f"INSERT INTO {qn(table)} ({columns}) SELECT {names} FROM {unnest} ORDER BY position {ignore}"  # noqa: S608
    with _binary_cursor() as cursor:
        cursor.execute(sql, _columns(rows, len(fields)))


def update_by_id(table: str, fields: list[Field[Any, Any]], rows: list[list[Any]]) -> None:
    """Set the `fields` of each row whose id is the last of its values (the others the fields').
    In the caller's transaction."""
    qn = connection.ops.quote_name
    if not _arrays():
        sets = ", ".join(f"{qn(str(f.column))} = %s" for f in fields)
        sql = f"UPDATE {qn(table)} SET {sets} WHERE {qn('id')} = %s"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        return
    sets = ", ".join(f"{qn(str(f.column))} = v.c{i}" for i, f in enumerate(fields))
    unnest = f"unnest({_array_slots(fields)}, %b::bigint[]) AS v({', '.join(f'c{i}' for i in range(len(fields)))}, id)"
    sql = f"UPDATE {qn(table)} SET {sets} FROM {unnest} WHERE {qn(table)}.{qn('id')} = v.id"  # noqa: S608
    with _binary_cursor() as cursor:
        cursor.execute(sql, _columns(rows, len(fields) + 1))


def _arrays() -> bool:
    """PostgreSQL through psycopg 3 (requirements.txt): its binary array dumpers. Through psycopg2,
    which Django also runs on, the rows go by executemany as on SQLite."""
    if connection.vendor != "postgresql":
        return False
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return bool(is_psycopg3)


@contextmanager
def _binary_cursor() -> Iterator[CursorWrapper]:
    """A cursor of Django's connection whose parameters are bound by the server, in binary: Django's
    own bind on the client, quoting each of an array's elements in Python (~10 ms of a batch's
    500 answers). Wrapped as Django's cursors are (its errors, query logging, execute wrappers)."""
    import psycopg

    connection.ensure_connection()
    raw: Any = psycopg.Cursor(connection.connection)  # the stubs call it a CursorWrapper; Django wraps it
    with connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw) as cursor:
        yield cursor


def _array_slots(fields: list[Field[Any, Any]]) -> str:
    return ", ".join(f"%b::{_MODIFIERS.sub('', str(f.db_type(connection)))}[]" for f in fields)


def _columns(rows: list[list[Any]], width: int) -> list[list[Any]]:
    """The rows' values as one list per column."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]
