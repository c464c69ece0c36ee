"""An import reads and parses the next batch of its file in another thread while it stores the current one: the
batches, the skipped rows and the report are those of reading it in order, an error of the reader reaches the
import, and an import that stops early leaves no reader behind."""

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.base.csv_imports import import_in_batches

# A row's value "bad" is refused by the parser; a row with a value too many is refused as it is read.
ROW = st.sampled_from(["good", "bad", "extra"])


def _write(path, kinds: list[str]) -> None:
    lines = ["name,value"]
    for line, kind in enumerate(kinds, start=2):
        lines.append({"good": f"n{line},ok", "bad": f"n{line},bad", "extra": f"n{line},ok,more"}[kind])
    path.write_text("\n".join(lines) + "\n")


def _import(path, batch_size: int, *, fail_at: int | None = None, store=None):
    stored: list[list[int]] = []
    skipped: list[int] = []
    threads: set[str] = set()

    def parse(csv_row, bad_row):
        threads.add(threading.current_thread().name)
        if fail_at is not None and csv_row.line == fail_at:
            raise ValueError(f"cannot parse line {csv_row.line}")
        if csv_row.cells["value"] == "bad":
            bad_row(csv_row.line, csv_row.cells["value"], "is bad")
            return None
        return csv_row.line

    def start(report, bad_row):
        def import_batch(batch):
            (store or stored.append)(batch)
            report.processed += len(batch)

        return import_batch

    report = import_in_batches(
        path=path,
        aliases={},
        check_columns=lambda columns: None,
        parse_row=parse,
        start=start,
        batch_size=batch_size,
        on_row_error=lambda error: skipped.append(error.line),
    )
    return report, stored, skipped, threads


@settings(max_examples=60, deadline=None)
@given(kinds=st.lists(ROW, max_size=40), batch_size=st.integers(min_value=1, max_value=7))
def test_batches_and_skipped_rows_are_those_of_reading_the_file_in_order(tmp_path_factory, kinds, batch_size):
    path = tmp_path_factory.mktemp("read_ahead") / "rows.csv"
    _write(path, kinds)

    report, stored, skipped, threads = _import(path, batch_size)

    good = [line for line, kind in enumerate(kinds, start=2) if kind == "good"]
    assert stored == [good[start : start + batch_size] for start in range(0, len(good), batch_size)]
    assert skipped == [line for line, kind in enumerate(kinds, start=2) if kind != "good"]
    assert report.error_count == len(skipped)
    assert report.processed == len(kinds)
    if set(kinds) - {"extra"}:  # (a row with a value too many never reaches the parser)
        assert threads == {"import-reader"}, "the rows were not parsed in the reader thread"


def test_an_error_of_the_reader_reaches_the_import_after_the_batches_before_it(tmp_path):
    path = tmp_path / "rows.csv"
    _write(path, ["good"] * 10)

    stored: list[list[int]] = []
    with pytest.raises(ValueError, match="cannot parse line 8"):
        _import(path, 3, fail_at=8, store=stored.append)

    assert stored == [[2, 3, 4], [5, 6, 7]]  # every batch before line 8's, as reading in order stores them
    assert not _readers_alive()


def test_an_import_that_fails_storing_a_batch_leaves_no_reader_behind(tmp_path):
    path = tmp_path / "rows.csv"
    _write(path, ["good"] * 500)

    def store(batch):
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError, match="went away"):
        _import(path, 10, store=store)

    assert not _readers_alive()


def _readers_alive() -> bool:
    return any(thread.name == "import-reader" and thread.is_alive() for thread in threading.enumerate())
