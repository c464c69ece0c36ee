"""Inserting many plain rows at once: one multi-row INSERT per chunk, values adapted as the database backend wants
them, without building a model instance per row (the click flush and the click counters write thousands)."""

from collections.abc import Iterable, Iterator
from itertools import islice

from django.db import connection, models

# Rows per INSERT: with up to nine columns, under SQLite's limit of 32,766 parameters.
CHUNK = 1000


def rows_insert(
    model: type[models.Model],
    fields: tuple[str, ...],
    rows: Iterable[tuple],
    *,
    unique: tuple[str, ...] = (),
    returning: str = "",
) -> list:
    """Insert `rows` (tuples of `fields`' values, by attribute name: `campaign_id` for a foreign key). With
    `unique` (the columns of a unique key), a row whose values are stored already is passed over (ON CONFLICT DO
    NOTHING); with `returning`, that column of each row really inserted is returned."""
    columns = [model._meta.get_field(name) for name in fields]
    adapt = [_adapter(field) for field in columns]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(field.column) for field in columns)
    key = ", ".join(connection.ops.quote_name(name) for name in unique)
    suffix = f" ON CONFLICT ({key}) DO NOTHING" if unique else ""
    suffix += f" RETURNING {connection.ops.quote_name(returning)}" if returning else ""
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    returned = []
    for chunk in _chunks(rows):
        params = [
            convert(value) if convert else value for row in chunk for convert, value in zip(adapt, row, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([placeholders] * len(chunk))}{suffix}", params
            )
            if returning:
                returned += [row[0] for row in cursor.fetchall()]
    return returned


def _adapter(field: models.Field):
    if isinstance(field, models.DateTimeField):
        return lambda value: None if value is None else connection.ops.adapt_datetimefield_value(value)
    if isinstance(field, models.DateField):
        return lambda value: None if value is None else connection.ops.adapt_datefield_value(value)
    return None


def _chunks(rows: Iterable[tuple]) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk
