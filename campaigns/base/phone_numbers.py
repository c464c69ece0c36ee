"""Phone numbers as people type them ("98765 43210", "09876543210", "+91-..."), made E.164, or refused in words."""

import re

import phonenumbers

DEFAULT_REGION = "IN"
# Excel sometimes turns a number column into floats: 9876543210.0.
_EXCEL_FLOAT = re.compile(r"^\+?\d+\.0+$")
_EXCEL_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")

_ACCEPTED_NUMBER_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
}
_POSSIBLE_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "has a country code that does not exist",
    phonenumbers.ValidationResult.TOO_SHORT: "is too short for a phone number",
    phonenumbers.ValidationResult.TOO_LONG: "is too long for a phone number",
    phonenumbers.ValidationResult.INVALID_LENGTH: "has the wrong number of digits",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "is missing its area or country code",
}


class MobileError(ValueError):
    """A value that is not a usable mobile number; the message says why, in words."""


def normalise_mobile(value: str, *, region: str = DEFAULT_REGION) -> str:
    """A mobile number in E.164 (+919876543210) from what people type: "98765 43210", "09876543210", "+91-...".

    Raises MobileError with a reason a campaign manager can act on.
    """
    text = value.strip()
    if _EXCEL_FLOAT.match(text):
        text = text.split(".", 1)[0]
    if _EXCEL_SCIENTIFIC.match(text):
        raise MobileError("was turned into scientific notation by a spreadsheet; format the column as text")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        if error.error_type == phonenumbers.NumberParseException.TOO_SHORT_NSN:
            raise MobileError("is too short for a phone number") from None
        if error.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise MobileError("has a country code that does not exist") from None
        raise MobileError("is not a phone number") from None
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible in _POSSIBLE_REASONS:
        raise MobileError(_POSSIBLE_REASONS[possible])
    if not phonenumbers.is_valid_number(number):
        country = phonenumbers.region_code_for_number(number) or region
        raise MobileError(f"is not a valid number in {_country_name(country)}")
    number_type = phonenumbers.number_type(number)
    if number_type == phonenumbers.PhoneNumberType.FIXED_LINE:
        raise MobileError("is a landline number; text messages need a mobile number")
    if number_type not in _ACCEPTED_NUMBER_TYPES:
        raise MobileError("is not a mobile number (toll-free, premium or service number)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _country_name(region: str) -> str:
    return {"IN": "India"}.get(region, region)
