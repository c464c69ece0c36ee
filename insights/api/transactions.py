"""POST /api/v1/transactions/: a brand's systems send what customers bought, with an API key that may write.

The body is JSON: {"transactions": [{...}, ...]} (or the list alone), at most 1,000 a call. Each item has
transaction_id, time (ISO 8601; without an offset, the org's clock), amount, and external_id, mobile or email;
optionally currency (INR), store and channel. Items are stored as the CSV import stores rows (idempotent by
transaction id; a new amount is a recorded update); an item with a problem is answered with its position and the
problem in words, and the others are stored.
"""

import json

from django.http import HttpRequest, JsonResponse

from campaigns.customers.attribution import campaign_sales_recount
from campaigns.customers.transaction_rows import COLUMNS, transaction_parse
from campaigns.customers.transactions import SOURCE_API, transactions_store
from insights.api.views import BadParameter, api_view
from insights.models import ApiKey

MAX_ITEMS = 1000
MAX_BODY_BYTES = 2 * 1024 * 1024
_ALIASES = {"customer_external_id": "external_id", "sales_channel": "channel"}


@api_view(method="POST", writes=True)
def transactions_receive(request: HttpRequest, api_key: ApiKey) -> JsonResponse:
    items = _items(request)
    org = api_key.org
    rows, errors = [], []
    for index, item in enumerate(items):
        row, problem = _row(item, index, org.timezone)
        if row is None:
            transaction_id = item.get("transaction_id") if isinstance(item, dict) else None
            errors.append({"index": index, "transaction_id": transaction_id, "error": problem})
        else:
            rows.append(row)
    stored = transactions_store(org=org, rows=rows, source=SOURCE_API)
    campaign_sales_recount(stored.campaigns)
    return JsonResponse(
        {
            "received": len(items),
            "created": stored.created,
            "updated": stored.updated,
            "unchanged": stored.unchanged,
            "waiting_for_customer": stored.unmatched,
            "results": [
                {"index": row.line, "transaction_id": row.transaction_id, "outcome": stored.outcomes[row.line]}
                for row in rows
            ],
            "errors": errors,
        },
        status=400 if errors and not rows else 200,
    )


def _items(request: HttpRequest) -> list:
    if len(request.body) > MAX_BODY_BYTES:
        raise BadParameter(f"The body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB: send fewer transactions.")
    try:
        body = json.loads(request.body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BadParameter(f"The body is not JSON ({error}).") from None
    items = body.get("transactions") if isinstance(body, dict) else body
    if not isinstance(items, list) or not items:
        raise BadParameter('Send a JSON object {"transactions": [...]} with at least one transaction.')
    if len(items) > MAX_ITEMS:
        raise BadParameter(f"At most {MAX_ITEMS:,} transactions a call; this one has {len(items):,}.")
    return items


def _row(item, index: int, org_timezone: str):
    if not isinstance(item, dict):
        return None, "is not a JSON object with the transaction's fields"
    cells: dict[str, str] = {}
    unknown = []
    for name, value in item.items():
        key = _ALIASES.get(name, name)
        if key not in COLUMNS:
            unknown.append(name)
        elif value is None:
            continue
        elif isinstance(value, bool) or not isinstance(value, str | int | float):
            return None, f"{name} must be text or a number"
        else:
            cells[key] = str(value)
    if unknown:
        return None, f"has fields that are not transaction fields: {', '.join(sorted(unknown))}"
    return transaction_parse(cells, line=index, org_timezone=org_timezone)
