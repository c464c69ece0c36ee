"""Receipt and inbound-reply webhooks of HTTP gateways: authenticate, then parse into the project's terms.

Three real shapes: Twilio-style form posts signed with X-Twilio-Signature (HMAC-SHA1 of the URL and the sorted
parameters, keyed with the account's auth token); Infobip-style JSON (an object with a `results` list) and
Gupshup-style JSON (an array of up to 20 events), both authenticated with a shared secret
(X-Signature: sha256=<hex HMAC of the body>) or a token (Authorization: Bearer <token>).

Gupshup delivers inbound replies differently: it calls the keyword response URL configured in its panel with a GET
(`msisdn`, `keyword`, `content`, ...) and can send no header, so that URL carries the token: `...?token=<token>`.
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from delivery.gateways.base import Receipt
from delivery.gateways.codes import (
    gupshup_error_code,
    gupshup_receipt_reason,
    infobip_receipt_reason,
    twilio_receipt_reason,
)

TWILIO = "twilio"
INFOBIP = "infobip"
GUPSHUP = "gupshup"
# The `receipt_format` setting of an HTTP gateway: the shape its receipts are posted in.
RECEIPT_FORMATS = {
    TWILIO: "Twilio-style form posts",
    INFOBIP: "Infobip-style JSON results",
    GUPSHUP: "Gupshup-style JSON events",
}
GUPSHUP_MAX_EVENTS = 20  # Gupshup posts at most 20 events in one batch
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}


class WebhookRefused(Exception):
    """The request is not from the gateway (401) or cannot be read (400). Nothing is applied."""

    def __init__(self, status: int, why: str):
        super().__init__(why)
        self.status = status
        self.why = why


@dataclass(frozen=True)
class InboundReply:
    from_number: str
    text: str

    @property
    def is_stop(self) -> bool:
        words = self.text.strip().upper().split()
        return bool(words) and words[0].strip(".!") in STOP_WORDS


def twilio_signature(*, auth_token: str, url: str, params: dict[str, list[str]]) -> str:
    payload = url + "".join(key + value for key in sorted(params) for value in sorted(params[key]))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def hmac_signature(*, secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def authenticate(
    *, receipt_format: str, credentials: dict, url: str, headers, params: dict[str, list[str]], body: bytes
) -> None:
    """Raise WebhookRefused(401) unless the request carries the gateway's valid signature or token."""
    if receipt_format == TWILIO:
        auth_token = credentials.get("auth_token", "")
        given = headers.get("X-Twilio-Signature", "")
        if not auth_token:
            raise WebhookRefused(401, "no auth_token configured for this gateway")
        expected = twilio_signature(auth_token=auth_token, url=url, params=params)
        if not given or not hmac.compare_digest(given, expected):
            raise WebhookRefused(401, "X-Twilio-Signature missing or wrong")
        return
    secret, token = credentials.get("webhook_secret", ""), credentials.get("webhook_token", "")
    if not secret and not token:
        raise WebhookRefused(401, "no webhook_secret or webhook_token configured for this gateway")
    signature = headers.get("X-Signature", "")
    if secret and signature and hmac.compare_digest(signature, hmac_signature(secret=secret, body=body)):
        return
    authorization = headers.get("Authorization", "")
    scheme, _, given_token = authorization.partition(" ")
    if token and scheme.lower() in ("bearer", "app") and hmac.compare_digest(given_token.strip(), token):
        return
    if token and receipt_format == GUPSHUP and hmac.compare_digest(_first(params, "token"), token):
        return  # Gupshup's keyword response URL (a GET) can carry no header
    raise WebhookRefused(401, "signature or token missing or wrong")


def parse_receipts(*, receipt_format: str, params: dict[str, list[str]], body: bytes) -> list[Receipt]:
    if receipt_format == TWILIO:
        return [_twilio_receipt(params)]
    if receipt_format == GUPSHUP:
        return _gupshup_receipts(body)
    return _infobip_receipts(body)


def _first(params: dict[str, list[str]], key: str) -> str:
    values = params.get(key) or [""]
    return values[0].strip()


def _twilio_receipt(params: dict[str, list[str]]) -> Receipt:
    sid, status, error_code = _first(params, "MessageSid"), _first(params, "MessageStatus"), _first(params, "ErrorCode")
    if not sid or not status:
        raise WebhookRefused(400, "MessageSid and MessageStatus are required")
    mapped = twilio_receipt_reason(status, error_code)
    if mapped is None:
        raise WebhookRefused(400, f"unknown MessageStatus {status!r}")
    state, reason = mapped
    raw = "&".join(f"{k}={v}" for k in sorted(params) for v in params[k])
    return Receipt(sid, state, reason, f"TWILIO:{error_code}" if error_code else "", raw=raw)


def _json_body(body: bytes) -> dict:
    try:
        parsed = json.loads(body)
    except ValueError:
        raise WebhookRefused(400, "the body is not JSON") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("results"), list) or not parsed["results"]:
        raise WebhookRefused(400, "expected an object with a non-empty results list")
    if not all(isinstance(result, dict) for result in parsed["results"]):
        raise WebhookRefused(400, "every result must be an object")
    return parsed


def _infobip_receipts(body: bytes) -> list[Receipt]:
    receipts = []
    for result in _json_body(body)["results"]:
        message_id, status = _text(result.get("messageId")), result.get("status")
        if not message_id or not isinstance(status, dict):
            raise WebhookRefused(400, "each result needs messageId and status")
        try:
            group_id = int(status.get("groupId"))
        except (TypeError, ValueError, OverflowError):  # OverflowError: JSON's 1e400 is infinity
            raise WebhookRefused(400, "status.groupId must be a number") from None
        error = result.get("error") if isinstance(result.get("error"), dict) else {}
        try:
            error_id = int(error["id"]) if error.get("id") is not None else None
        except (TypeError, ValueError, OverflowError):
            error_id = None
        mapped = infobip_receipt_reason(group_id, error_id, str(error.get("name", "")))
        if mapped is None:
            raise WebhookRefused(400, f"unknown status.groupId {group_id}")
        state, reason = mapped
        raw_error = f"INFOBIP:{error_id}" if error_id else ""
        receipts.append(Receipt(message_id, state, reason, raw_error, raw=json.dumps(result)))
    return receipts


def _gupshup_events(body: bytes) -> list[dict]:
    try:
        parsed = json.loads(body)
    except ValueError:
        raise WebhookRefused(400, "the body is not JSON") from None
    if isinstance(parsed, dict) and isinstance(parsed.get("response"), list):
        parsed = parsed["response"]  # Gupshup's own example wraps the array as {"response": [...]}
    if not isinstance(parsed, list) or not parsed:
        raise WebhookRefused(400, "expected a non-empty JSON array of events")
    if len(parsed) > GUPSHUP_MAX_EVENTS:
        raise WebhookRefused(400, f"at most {GUPSHUP_MAX_EVENTS} events in one post, got {len(parsed)}")
    if not all(isinstance(event, dict) for event in parsed):
        raise WebhookRefused(400, "every event must be an object")
    return parsed


def _text(value) -> str | None:
    """A JSON string or number as text; None for anything else (a bool, an object, null)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip()


def _gupshup_receipts(body: bytes) -> list[Receipt]:
    """Receipts in the order the events happened (eventTs), so the first final event of a message counts."""
    timed = []
    for position, event in enumerate(_gupshup_events(body)):
        external_id, event_type = _text(event.get("externalId")), _text(event.get("eventType"))
        if not external_id:
            raise WebhookRefused(400, "each event needs an externalId")
        if not event_type:
            raise WebhookRefused(400, "each event needs an eventType")
        event_ts = _text(event["eventTs"]) if event.get("eventTs") is not None else ""
        # isdigit() alone takes "²" and other digits int() does not read.
        if event_ts is None or (event_ts and not (event_ts.isascii() and event_ts.isdigit())):
            raise WebhookRefused(400, "eventTs must be a time in milliseconds")
        err_code, cause = _text(event.get("errCode")) or "", _text(event.get("cause")) or ""
        mapped = gupshup_receipt_reason(event_type, err_code, cause)
        if mapped is None:
            raise WebhookRefused(400, f"unknown eventType {event_type!r}")
        state, reason = mapped
        code = gupshup_error_code(err_code)
        if code:
            raw_error = f"GUPSHUP:{code}"
        elif state == "not_delivered" and cause:
            raw_error = f"GUPSHUP:{cause.upper()}"
        else:
            raw_error = ""
        receipt = Receipt(external_id, state, reason, raw_error, raw=json.dumps(event))
        timed.append((int(event_ts) if event_ts else None, position, receipt))
    # Events without a time come after the timed ones; ties keep the order they were posted in.
    timed.sort(key=lambda item: (item[0] is None, item[0] or 0, item[1]))
    return [receipt for _, _, receipt in timed]


def parse_inbound(*, receipt_format: str, params: dict[str, list[str]], body: bytes) -> list[InboundReply]:
    if receipt_format == TWILIO:
        from_number, text = _first(params, "From"), _first(params, "Body")
        if not from_number:
            raise WebhookRefused(400, "From is required")
        return [InboundReply(from_number, text)]
    if receipt_format == GUPSHUP:
        from_number = _first(params, "msisdn")
        if not from_number:
            raise WebhookRefused(400, "msisdn is required")
        # `content` is the whole message ("STOP please"); some panels send only the keyword
        return [InboundReply(from_number, _first(params, "content") or _first(params, "keyword"))]
    replies = []
    for result in _json_body(body)["results"]:
        from_number, text = result.get("from"), result.get("cleanText") or result.get("text") or ""
        if not isinstance(from_number, str | int) or not str(from_number).strip() or not isinstance(text, str):
            raise WebhookRefused(400, "each result needs from and text")
        replies.append(InboundReply(str(from_number).strip(), text))
    return replies
