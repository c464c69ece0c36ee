"""Counters kept as rows of changes: writers only insert (two writers never wait on one row), readers add the rows
up, and a periodic merge replaces the rows of each key by one. Used by the click counters and the message
counters."""

from collections.abc import Iterator
from itertools import islice

from django.db import transaction
from django.db.models import QuerySet

CHUNK = 5000
SUM, MIN = "sum", "min"


class MergedMeanwhile(Exception):
    """Another merge (or a rebuild) deleted some of the rows this merge read."""


def change_rows_merge(rows: QuerySet, *, keys: tuple[str, ...], figures: dict[str, str]) -> int:
    """Replace `rows` by one row per key, each figure merged by SUM or MIN; returns the rows removed. A merged row
    whose summed figures are all zero is dropped.

    Only the rows read are deleted, by id, so rows inserted meanwhile are kept. Should some of them have been deleted
    by someone else first, nothing is changed (MergedMeanwhile) rather than counting them twice.
    """
    model = rows.model
    with transaction.atomic():
        read = list(rows.values("pk", *keys, *figures))
        merged: dict[tuple, dict] = {}
        for row in read:
            key = tuple(row[name] for name in keys)
            into = merged.get(key)
            if into is None:
                merged[key] = {name: row[name] for name in (*keys, *figures)}
                continue
            for name, how in figures.items():
                if how == SUM:
                    into[name] += row[name]
                elif row[name] is not None and (into[name] is None or row[name] < into[name]):
                    into[name] = row[name]
        if len(read) <= len(merged):
            return 0
        deleted = sum(model.objects.filter(pk__in=chunk).delete()[0] for chunk in _chunks([row["pk"] for row in read]))
        if deleted != len(read):
            raise MergedMeanwhile(f"{len(read) - deleted} of {len(read)} {model.__name__} rows were merged meanwhile")
        kept = [row for row in merged.values() if any(row[name] for name, how in figures.items() if how == SUM)]
        model.objects.bulk_create((model(**row) for row in kept), batch_size=CHUNK)
        return len(read) - len(kept)


def _chunks(items: list) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk
