"""Read and write a batch's rows (a thousand messages at a time) without a cost per value in Django.

COPY writes many rows of plain values: a multi-row INSERT of a thousand rows costs the driver a quoted literal per
value and the server the parsing of a statement with thousands of parameters; COPY streams the same rows as text,
at a fraction of both. COPY does not pass through cursor.execute: Django records it like a statement where
statements are recorded (DEBUG, tests counting queries), but database execute wrappers do not see it.
"""

import io
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from django.db import connection
from django.db.models import F, Lookup, Model, QuerySet


class AnyOf(Lookup):
    """`<column> = ANY(%s)`: the values go to PostgreSQL as one array parameter (ids and texts as one array literal,
    see array_text)."""

    lookup_name = "any_of"
    prepare_rhs = False  # the list is the parameter, not a value of the field

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if all(type(value) in (int, str) for value in self.rhs):
            array_type = self.lhs.output_field.cast_db_type(connection)
            return f"{lhs} = ANY(%s::{array_type}[])", (*lhs_params, array_text(self.rhs))
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


def among(queryset: QuerySet, field: str, values: Iterable) -> QuerySet:
    """`queryset.filter(<field>__in=values)`; on PostgreSQL as `= ANY(array)`, with the values as one parameter.

    Django's IN prepares each value on its own, about 2 us each: as much, for a batch of ids, as the rest of a query.
    """
    if connection.vendor != "postgresql":
        return queryset.filter(**{f"{field}__in": values})
    return queryset.filter(AnyOf(F(field), list(values)))


def array_text(values: Iterable) -> str:
    """A PostgreSQL array literal of plain values (None, str, int, datetime), to pass as one `%s::<type>[]`
    parameter: the driver then quotes one string rather than each value on its own (about 2 us per text or time
    value, as much for a batch of outcomes as the rest of its statement)."""
    return "{" + ",".join([_array_element(value) for value in values]) + "}"


def _array_element(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime):
        return '"' + value.isoformat() + '"'
    raise TypeError(f"no array text for a {type(value).__name__}")


def copy_rows(
    model: type[Model], columns: Sequence[str], rows: Iterable[Sequence], *, shared: dict | None = None
) -> None:
    """COPY `rows` (values in the order of `columns`, given as field attnames) into the model's table.

    `shared` gives values that are the same in every row (a batch's time, its campaign), written as text once.
    Every other concrete field but an automatic id takes its default, so a field added to the model later is written
    too. Values are plain Python: None, str, int, bool, datetime, date, or dict/list for JSON.
    """
    fields = {field.attname: field for field in model._meta.concrete_fields}
    shared = shared or {}
    defaults = {
        attname: field.get_default()
        for attname, field in fields.items()
        if attname not in columns
        and attname not in shared
        and not (field.primary_key and field.get_internal_type().endswith("AutoField"))
    }
    same = {**shared, **defaults}
    names = [*columns, *same]
    tail = "".join("\t" + copy_text(value) for value in same.values()) + "\n"
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join([copy_text(value) for value in row]) + tail)
    buffer.seek(0)
    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(fields[name].column) for name in names)}) FROM STDIN"
    # Django turns the driver's errors into its own (IntegrityError...) for execute, not for copy_expert.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.copy_expert(sql, buffer)


def copy_text(value: object) -> str:
    """One value in COPY's text format: \\N for NULL; in text, backslash, tab, newline and carriage return escaped,
    and a NUL character (which PostgreSQL cannot store in text, nor as \\u0000 in JSON) written as U+FFFD."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        # Four replace calls cost less than one str.translate, which looks up every character.
        text = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return text.replace("\x00", "\ufffd") if "\x00" in text else text
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return copy_text(json.dumps(_without_nul(value)))
    raise TypeError(f"no COPY text for a {type(value).__name__}")


def _without_nul(value):
    """JSON with every NUL in its strings (keys too) written as U+FFFD: jsonb refuses \\u0000."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value
