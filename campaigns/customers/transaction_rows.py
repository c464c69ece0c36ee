"""One transaction as a CSV row or an API item gives it, read and checked: each value in words when it is wrong.
campaigns.customers.transactions stores them."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from campaigns.base import clock
from campaigns.base.csv_imports import ImportFileError, check_import_file
from campaigns.base.phone_numbers import MobileError, normalise_mobile

COLUMNS = ("transaction_id", "time", "amount", "currency", "external_id", "mobile", "email", "store", "channel")
HEADER_ALIASES = {
    "id": "transaction_id",
    "txn_id": "transaction_id",
    "order_id": "transaction_id",
    "transaction": "transaction_id",
    "date": "time",
    "datetime": "time",
    "purchased_at": "time",
    "transaction_time": "time",
    "order_time": "time",
    "value": "amount",
    "total": "amount",
    "customer_id": "external_id",
    "externalid": "external_id",
    "customer_external_id": "external_id",
    "phone": "mobile",
    "mobile_number": "mobile",
    "msisdn": "mobile",
    "email_address": "email",
    "store_id": "store",
    "sales_channel": "channel",
}
MAX_LENGTHS = {"transaction_id": 100, "external_id": 100, "store": 100, "channel": 50}
DEFAULT_CURRENCY = "INR"
MAX_AMOUNT = Decimal("999999999999.99")
# A purchase stamped a little ahead of this server's clock (a till's clock running fast) is accepted.
FUTURE_TOLERANCE = timedelta(hours=1)
_CURRENCY = re.compile(r"[A-Z]{3}")
_TIME_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M")
TIME_EXAMPLE = "2026-11-20 14:05 (the org's clock) or 2026-11-20T14:05:00+05:30"


@dataclass
class TransactionRow:
    line: int  # the CSV line, or the item's position in an API batch (from 1)
    transaction_id: str
    time: datetime
    amount: Decimal
    currency: str = DEFAULT_CURRENCY
    external_id: str = ""
    mobile: str = ""
    email: str = ""
    store: str = ""
    sales_channel: str = ""


def check_transaction_file(path: Path) -> None:
    check_import_file(path, aliases=HEADER_ALIASES, check_columns=transaction_columns_check)


def transaction_columns_check(columns: list[str]) -> None:
    missing = [name for name in ("transaction_id", "time", "amount") if name not in columns]
    if missing or not {"external_id", "mobile", "email"} & set(columns):
        found = ", ".join(columns) or "none"
        raise ImportFileError(
            "The file needs the columns transaction_id, time and amount, and external_id, mobile or email to say who "
            f"bought (currency, store and channel are optional). Columns found: {found}."
        )
    unknown = [column for column in columns if column not in COLUMNS]
    if unknown:
        raise ImportFileError(
            f"These columns are not transaction fields: {', '.join(unknown)}. The fields are {', '.join(COLUMNS)}."
        )


def transaction_parse(values: dict[str, str], *, line: int, org_timezone: str) -> tuple[TransactionRow | None, str]:
    """A clean transaction and "", or None and every problem of it in words (the first value it names first)."""
    problems: list[str] = []
    cells = {key: str(value).strip() for key, value in values.items() if value is not None}
    for name, limit in MAX_LENGTHS.items():
        if len(cells.get(name, "")) > limit:
            problems.append(f"{name} is {len(cells[name]):,} characters; at most {limit}")
    transaction_id = cells.get("transaction_id", "")
    if not transaction_id:
        problems.append("has no transaction_id")
    moment, problem = _parse_time(cells.get("time", ""), org_timezone)
    if problem:
        problems.append(problem)
    amount, problem = _parse_amount(cells.get("amount", ""))
    if problem:
        problems.append(problem)
    currency = (cells.get("currency") or DEFAULT_CURRENCY).upper()
    if not _CURRENCY.fullmatch(currency):
        problems.append(f"currency “{cells['currency']}” is not a three-letter code such as INR")
    mobile = email = ""
    if cells.get("mobile"):
        mobile, problem = _mobile(cells["mobile"])
        if problem:
            problems.append(f"mobile number “{cells['mobile']}” {problem}")
    if cells.get("email"):
        email = cells["email"].lower()
        try:
            validate_email(email)
        except ValidationError:
            problems.append(f"“{cells['email']}” is not a valid email address")
    if not (cells.get("external_id") or cells.get("mobile") or cells.get("email")):
        problems.append("says nothing of who bought: give external_id, mobile or email")
    if problems:
        return None, "; ".join(problems)
    return (
        TransactionRow(
            line=line,
            transaction_id=transaction_id,
            time=moment,
            amount=amount,
            currency=currency,
            external_id=cells.get("external_id", ""),
            mobile=mobile,
            email=email,
            store=cells.get("store", ""),
            sales_channel=cells.get("channel", ""),
        ),
        "",
    )


@lru_cache(maxsize=100_000)
def _mobile(text: str) -> tuple[str, str]:
    """The number in E.164 and "", or "" and why it is refused. Remembered: a file of purchases names the same
    customers again and again, and reading a number (phonenumbers) costs more than the rest of the row."""
    try:
        return normalise_mobile(text), ""
    except MobileError as error:
        return "", str(error)


def _parse_time(text: str, org_timezone: str) -> tuple[datetime | None, str]:
    """A moment from ISO 8601 (an offset or Z, else the org's clock) or 20/11/2026 14:05; a date alone is midnight."""
    if not text:
        return None, "has no time"
    moment = None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        for time_format in _TIME_FORMATS:
            try:
                moment = datetime.strptime(text, time_format)
                break
            except ValueError:
                continue
    if moment is None:
        return None, f"time “{text}” is not a date and time such as {TIME_EXAMPLE}"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(org_timezone))
    if moment > clock.now() + FUTURE_TOLERANCE:
        return None, f"time “{text}” is in the future"
    return moment, ""


def _parse_amount(text: str) -> tuple[Decimal | None, str]:
    cleaned = text.replace(",", "").replace("₹", "").strip()
    if not cleaned:
        return None, "has no amount"
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None, f"amount “{text}” is not a number such as 1299.50"
    if not amount.is_finite() or amount < 0:
        return None, f"amount “{text}” must be 0 or more"
    if amount != amount.quantize(Decimal("0.01")):
        return None, f"amount “{text}” has more than 2 decimal places"
    if amount > MAX_AMOUNT:
        return None, f"amount “{text}” is too large"
    return amount.quantize(Decimal("0.01")), ""


def window_start(moment: datetime, *, org_timezone: str, days: int) -> datetime:
    """Midnight of the org's clock, `days` days before the day of `moment` there: a message that reached the
    customer from then until `moment` is within the attribution window."""
    zone = ZoneInfo(org_timezone)
    day: date = moment.astimezone(zone).date() - timedelta(days=days)
    return datetime.combine(day, time(0), tzinfo=zone)
