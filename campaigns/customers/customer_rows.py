"""One row of a customer file read and checked: its columns (and the names people give them), each value in
words when it is wrong. campaigns.customers.customer_import matches and stores the rows."""

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from campaigns.base.csv_imports import (
    BadRow,
    CsvRow,
    ImportFileError,
    check_import_file,
)
from campaigns.base.phone_numbers import MobileError, normalise_mobile

FIELD_MAX_LENGTHS = {"external_id": 100, "name": 200, "email": 254}


ATTRIBUTE_MAX_LENGTH = 1000


COUPON_CODE_MAX_LENGTH = 40


RESERVED = ("mobile", "email", "name", "external_id", "coupon_code", "coupon_expiry")


HEADER_ALIASES = {
    "phone": "mobile",
    "mobile_number": "mobile",
    "phone_number": "mobile",
    "mobile_no": "mobile",
    "msisdn": "mobile",
    "email_address": "email",
    "e_mail": "email",
    "full_name": "name",
    "customer_name": "name",
    "externalid": "external_id",
    "external_id": "external_id",
    "customer_id": "external_id",
    "coupon": "coupon_code",
    "coupon_expires_on": "coupon_expiry",
    "coupon_expiry_date": "coupon_expiry",
}


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y", "%d-%b-%Y")


_ATTRIBUTE_KEY = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")


@dataclass
class CustomerRow:
    line: int
    mobile: str = ""
    email: str = ""
    name: str = ""
    external_id: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    coupon: tuple[str, datetime.date] | None = None


def check_customer_file(path: Path) -> None:
    check_import_file(path, aliases=HEADER_ALIASES, check_columns=customer_columns_check)


def customer_columns_check(columns: list[str]) -> None:
    if "mobile" not in columns and "email" not in columns:
        found = ", ".join(columns) or "none"
        hint = " The first line looks like data, not column names." if any(c.isdigit() for c in columns) else ""
        raise ImportFileError(
            "The file needs a “mobile” or an “email” column (and may have name, external_id, coupon_code, "
            f"coupon_expiry and any attributes). Columns found: {found}.{hint}"
        )
    if ("coupon_code" in columns) != ("coupon_expiry" in columns):
        raise ImportFileError("Coupons need both a “coupon_code” and a “coupon_expiry” column.")
    for column in columns:
        if column not in RESERVED and not _ATTRIBUTE_KEY.match(column):
            raise ImportFileError(f"The column name “{column}” must use letters and digits only.")


def customer_row_parse(csv_row: CsvRow, bad_row: BadRow) -> CustomerRow | None:
    """A clean row, or None after reporting every problem the row has."""
    cells = csv_row.cells
    row = CustomerRow(line=csv_row.line)
    problems: list[tuple[str, str]] = []
    if cells.get("mobile"):
        try:
            row.mobile = normalise_mobile(cells["mobile"])
        except MobileError as error:
            problems.append((cells["mobile"], f"mobile number {error}"))
    if cells.get("email"):
        email = cells["email"].lower()
        try:
            validate_email(email)
        except ValidationError:
            problems.append((cells["email"], "is not a valid email address"))
        else:
            row.email = email
    for name in ("name", "external_id"):
        row_value = cells.get(name, "")
        if len(row_value) > FIELD_MAX_LENGTHS[name]:
            problems.append((row_value, f"{name} is {len(row_value):,} characters; at most {FIELD_MAX_LENGTHS[name]}"))
        else:
            setattr(row, name, row_value)
    if row.email and len(row.email) > FIELD_MAX_LENGTHS["email"]:
        problems.append((row.email, f"email is longer than {FIELD_MAX_LENGTHS['email']} characters"))
    for key, value in cells.items():
        if key in RESERVED or not value:
            continue
        if len(value) > ATTRIBUTE_MAX_LENGTH:
            problems.append((value, f"{key} is {len(value):,} characters; at most {ATTRIBUTE_MAX_LENGTH}"))
        else:
            row.attributes[key] = value
    code, expiry = cells.get("coupon_code", ""), cells.get("coupon_expiry", "")
    if code or expiry:
        if not code:
            problems.append((expiry, "has a coupon expiry but no coupon code"))
        elif not expiry:
            problems.append((code, "has a coupon code but no coupon expiry date"))
        elif len(code) > COUPON_CODE_MAX_LENGTH:
            problems.append((code, f"coupon code is longer than {COUPON_CODE_MAX_LENGTH} characters"))
        else:
            expires_on = _parse_date(expiry)
            if expires_on is None:
                problems.append((expiry, "coupon expiry is not a date (use 2026-12-31 or 31/12/2026)"))
            else:
                row.coupon = (code, expires_on)
    if not problems and not (row.mobile or row.email):
        problems.append(("", "has no mobile number and no email address"))
    if problems:
        bad_row(row.line, problems[0][0], "; ".join(reason for _, reason in problems))
        return None
    return row


def _parse_date(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        pass
    for date_format in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text.strip(), date_format).date()
        except ValueError:
            continue
    return None
