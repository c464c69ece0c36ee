"""The customer fields a campaign's variable can read: the standard ones every customer has, the coupon of a
coupon-expiry reminder, and the attributes the org's customer imports brought (any other CSV column)."""

from campaigns.models import Customer, Org

STANDARD_FIELDS = ("name", "mobile", "email", "external_id")
COUPON_FIELDS = ("coupon_code", "coupon_expiry")
# Enough customers to name the attributes an org uses, read from the newest, without reading every row.
ATTRIBUTE_SAMPLE = 1000


def org_has_attribute(*, org: Org, name: str) -> bool:
    """Whether any customer of the org has this attribute."""
    return Customer.objects.filter(org=org, attributes__has_key=name).exists()


def org_attribute_names(*, org: Org) -> list[str]:
    """The attributes the org's newest customers have, sorted: to name what may be chosen."""
    names: set[str] = set()
    rows = Customer.objects.filter(org=org).order_by("-pk").values_list("attributes", flat=True)[:ATTRIBUTE_SAMPLE]
    for attributes in rows:
        names.update(attributes or {})
    return sorted(names)


def customer_field_problem(*, org: Org, field: str, coupon_reminder: bool) -> str:
    """Why a variable cannot read the customer field `field`, in words; "" when some customer has it."""
    if field in STANDARD_FIELDS or (coupon_reminder and field in COUPON_FIELDS):
        return ""
    if field in COUPON_FIELDS:
        return f"'{field}' is filled only in a coupon-expiry reminder: choose that type, or another field."
    if field and org_has_attribute(org=org, name=field):
        return ""
    known = ", ".join([*STANDARD_FIELDS, *org_attribute_names(org=org)])
    if not field:
        return f"Write the customer field to use: {known}."
    return f"No customer of {org.name} has the field '{field}'. The fields are: {known}."
