"""Whole numbers written for people: 1,234,567 in the international grouping, 12,34,567 in the Indian one (lakh
and crore: the last three digits, then pairs), which is how people in India read figures."""

from decimal import Decimal, InvalidOperation


def indian_grouping(org_or_flag) -> bool:
    """Whether figures for this org (its `indian_number_grouping`), or for this yes/no, take the Indian grouping."""
    return bool(getattr(org_or_flag, "indian_number_grouping", org_or_flag))


def group_digits(number: int, *, indian: bool) -> str:
    """`number` with commas between its groups of digits; Indian grouping puts them as in 1,00,000 and 12,34,567."""
    sign = "-" if number < 0 else ""
    digits = str(abs(int(number)))
    if not indian:
        return f"{sign}{abs(int(number)):,}"
    if len(digits) <= 3:
        return sign + digits
    head, tail = digits[:-3], digits[-3:]
    pairs = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return sign + ",".join([head, *pairs, tail])


def figure_text(value, *, indian: bool) -> str:
    """A figure as a page shows it: a whole number grouped, a decimal (a percentage, say) with its integer part
    grouped and its decimals as they are; anything else (empty, a dash, a word) unchanged."""
    if isinstance(value, bool) or value is None or value == "":
        return "" if value is None else str(value)
    if isinstance(value, int):
        return group_digits(value, indian=indian)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    text = str(value).strip()
    whole, _, decimals = text.lstrip("+-").partition(".")
    if not whole.isdigit() or (decimals and not decimals.isdigit()):
        return str(value)
    grouped = group_digits(int(whole) if number >= 0 else -int(whole), indian=indian)
    if number < 0 and not grouped.startswith("-"):
        grouped = "-" + grouped  # -0.5: the integer part is 0
    return f"{grouped}.{decimals}" if decimals else grouped
