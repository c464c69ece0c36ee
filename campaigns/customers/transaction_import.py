"""Import transactions from a CSV file: streamed in batches, idempotent by transaction id, bad rows reported one by
one (the customer import's machinery, campaigns.base.csv_imports). Columns: transaction_id, time, amount, and
external_id, mobile or email; optionally currency (INR), store and channel."""

from collections.abc import Callable
from pathlib import Path

from campaigns.base.csv_imports import BadRow, CsvRow, ImportReport, RowError, import_in_batches
from campaigns.customers.attribution import campaign_sales_recount
from campaigns.customers.transaction_rows import (
    HEADER_ALIASES,
    TransactionRow,
    transaction_columns_check,
    transaction_parse,
)
from campaigns.customers.transactions import SOURCE_IMPORT, transactions_store
from campaigns.models import Org

BATCH_SIZE = 2000


def import_transactions(
    *,
    path: Path,
    org_id: int,
    batch_size: int = BATCH_SIZE,
    total_rows: int | None = None,
    on_progress: Callable[[ImportReport], None] | None = None,
    on_row_error: Callable[[RowError], None] | None = None,
) -> ImportReport:
    """Import (create, or update the amount of) the transactions of a CSV file into an org, batch by batch.

    Each batch commits on its own, so an interrupted import keeps what it did and running it again finishes it
    (rows already stored are unchanged). The campaigns' sales counters are counted again once, at the end.
    `report.unchanged` counts rows already stored as they are; `report.coupons` is unused.
    """
    org = Org.objects.get(pk=org_id)
    campaigns: set[int] = set()

    def parse(csv_row: CsvRow, bad_row: BadRow) -> TransactionRow | None:
        row, problem = transaction_parse(csv_row.cells, line=csv_row.line, org_timezone=org.timezone)
        if row is None:
            bad_row(csv_row.line, _first_value(csv_row.cells), problem)
        return row

    def start(report: ImportReport, bad_row: BadRow) -> Callable[[list[TransactionRow]], None]:
        def import_batch(rows: list[TransactionRow]) -> None:
            stored = transactions_store(org=org, rows=rows, source=SOURCE_IMPORT)
            report.created += stored.created
            report.updated += stored.updated
            report.unchanged += stored.unchanged
            report.processed += len(rows)
            campaigns.update(stored.campaigns)

        return import_batch

    report = import_in_batches(
        path=path,
        aliases=HEADER_ALIASES,
        check_columns=transaction_columns_check,
        parse_row=parse,
        start=start,
        batch_size=batch_size,
        total_rows=total_rows,
        on_progress=on_progress,
        on_row_error=on_row_error,
    )
    campaign_sales_recount(campaigns)
    return report


def _first_value(cells: dict[str, str]) -> str:
    return cells.get("transaction_id") or next((value for value in cells.values() if value), "")
