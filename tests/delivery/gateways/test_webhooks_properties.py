"""Property tests of the receipt and inbound webhooks: whatever a gateway (or anyone) posts, in every provider's
shape, parsing gives receipts and replies or refuses with WebhookRefused, and the views answer 200, 400 or 401,
never a 500."""

import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from delivery.gateways.webhooks import (
    GUPSHUP,
    INFOBIP,
    TWILIO,
    WebhookRefused,
    parse_inbound,
    parse_receipts,
    twilio_signature,
)
from tests.delivery.helpers import SECRET, TWILIO_TOKEN
from tests.factories import http_config

FORMATS = [TWILIO, INFOBIP, GUPSHUP]
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)
KEYS = st.sampled_from(
    ["messageId", "status", "groupId", "error", "id", "name", "externalId", "eventType", "eventTs", "errCode", "cause",
     "from", "text", "cleanText", "results", "response", "MessageSid", "MessageStatus", "ErrorCode", "From", "Body",
     "msisdn", "content", "keyword", "token"]
)  # fmt: skip
# Bodies in each provider's shape, with the fields they name holding anything.
SHAPED = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=21), st.dictionaries(KEYS, inner, max_size=6)),
    max_leaves=25,
)
BODIES = st.one_of(
    st.binary(max_size=200),
    JSON.map(lambda value: json.dumps(value).encode()),
    SHAPED.map(lambda value: json.dumps(value).encode()),
    st.builds(
        lambda events: json.dumps({"results": events}).encode(), st.lists(st.dictionaries(KEYS, SHAPED), max_size=3)
    ),
    st.builds(lambda events: json.dumps(events).encode(), st.lists(st.dictionaries(KEYS, SHAPED), max_size=3)),
)
PARAMS = st.dictionaries(st.one_of(KEYS, TEXT), st.lists(TEXT, min_size=1, max_size=3), max_size=6)
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(receipt_format=st.sampled_from(FORMATS), params=PARAMS, body=BODIES)
@example(receipt_format=INFOBIP, params={}, body=b'{"results": [{"messageId": "x", "status": {"groupId": 1e400}}]}')
@example(
    receipt_format=INFOBIP,
    params={},
    body=b'{"results": [{"messageId": "x", "status": {"groupId": 3}, "error": {"id": 1e400}}]}',
)
@example(
    receipt_format=GUPSHUP, params={}, body=b'[{"externalId": "x", "eventType": "DELIVERED", "eventTs": "\xc2\xb2"}]'
)
def test_a_receipt_or_reply_of_any_shape_is_read_or_refused(receipt_format, params, body):
    for parse in (parse_receipts, parse_inbound):
        try:
            parse(receipt_format=receipt_format, params=params, body=body)
        except WebhookRefused as refused:
            assert refused.status == 400 and refused.why


def _sign(receipt_format: str, url: str, params: dict, body: bytes) -> dict:
    if receipt_format == TWILIO:
        return {"HTTP_X_TWILIO_SIGNATURE": twilio_signature(auth_token=TWILIO_TOKEN, url=url, params=params)}
    return {"HTTP_X_SIGNATURE": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}


@pytest.fixture
def config(org):
    return http_config(org, "http://127.0.0.1:9/")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    receipt_format=st.sampled_from(FORMATS),
    webhook=st.sampled_from(["delivery:receipts", "delivery:inbound"]),
    signed=st.booleans(),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "text/plain",
            "application/x-www-form-urlencoded; charset=utf-16",
            "",
        ]
    ),
    params=st.dictionaries(KEYS, TEXT, max_size=5),
    body=BODIES,
    form=st.booleans(),
)
@example(
    receipt_format=TWILIO,
    webhook="delivery:receipts",
    signed=False,
    content_type="multipart/form-data; boundary=xyz",
    params={},
    body=b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xyz--\r\n',
    form=False,
)
@example(  # a NUL in a refused body: the gateway log must still store it (PostgreSQL refuses NUL in text)
    receipt_format=TWILIO,
    webhook="delivery:receipts",
    signed=True,
    content_type="",
    params={"a": "\x00"},
    body=b"",
    form=True,
)
def test_a_webhook_answers_200_400_or_401_to_anything(config, receipt_format, webhook, signed, content_type, params, body, form):  # fmt: skip
    config.settings = {**config.settings, "receipt_format": receipt_format}
    config.save(update_fields=["settings"])
    url = reverse(webhook, args=[config.pk])
    if form:
        content_type, body = "application/x-www-form-urlencoded", urlencode(params).encode()
    signature = (
        _sign(receipt_format, "http://testserver" + url, {k: [v] for k, v in params.items()}, body) if signed else {}
    )
    # generic(): post() would re-encode the bytes to the content type's charset, which a gateway does not do
    response = Client(raise_request_exception=False).generic("POST", url, body, content_type=content_type, **signature)
    assert response.status_code in (200, 400, 401), response.content[:200]
