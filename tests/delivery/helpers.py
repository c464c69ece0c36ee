"""Helpers of the delivery tests: a campaign's outcomes, View Details' section of a reason, receipt webhooks as
gateways call them, an SMPP gateway against the loopback SMSC."""

import hashlib
import hmac
import json
from urllib.parse import urlencode

from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from campaigns.models import Campaign
from delivery import reasons
from delivery.gateways.smpp import SmppGateway
from delivery.gateways.webhooks import twilio_signature
from delivery.models import GatewayConfig, Message
from tests.delivery.smsc import Smsc

# The secrets of the test HTTP gateway (tests.factories.http_config).
TWILIO_TOKEN = "tw-token-42"
SECRET = "whsec-abc-987"
# The messages of a campaign to the `customers` fixture.
TOTAL = 10


def statuses(campaign: Campaign) -> dict[str, int]:
    result: dict[str, int] = {}
    for status, reason in Message.objects.filter(campaign=campaign).values_list("status", "reason_code"):
        key = f"{status}:{reason}" if reason else status
        result[key] = result.get(key, 0) + 1
    return result


# --- View Details ---------------------------------------------------------------------------------------------


def details_section(client, campaign: Campaign, code: str) -> str:
    reason = reasons.REASONS[code]
    page = client.get(reverse("delivery:details", args=[campaign.pk, reason.group]))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="reason-{code}"' in html, f"{code} is not on the {reason.group} page"
    return html.split(f'id="reason-{code}"')[1].split("</section>")[0]


def assert_shown(client, campaign: Campaign, code: str, count: int, total: int = TOTAL) -> None:
    reason = reasons.REASONS[code]
    section = details_section(client, campaign, code)
    assert escape(reason.title) in section
    assert escape(reason.explanation) in section
    assert f"<strong data-count>{count}</strong>" in section
    assert f"<strong data-percent>{round(100 * count / total, 1)}%</strong>" in section


# --- Receipt webhooks -----------------------------------------------------------------------------------------


def post_twilio(client: Client, config, params: dict, *, token: str = TWILIO_TOKEN, signature: str | None = None):
    url = reverse("delivery:receipts", args=[config.pk])
    full_url = "http://testserver" + url
    given = (
        signature
        if signature is not None
        else twilio_signature(auth_token=token, url=full_url, params={k: [v] for k, v in params.items()})
    )
    return client.post(
        url, urlencode(params), content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE=given
    )


def post_infobip(client: Client, config, body, *, secret: str = SECRET, headers: dict | None = None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    extra = headers if headers is not None else {"HTTP_X_SIGNATURE": signature}
    return client.post(reverse("delivery:receipts", args=[config.pk]), raw, content_type="application/json", **extra)


def infobip(message_id: str, group_id: int, error_id: int = 0, error_name: str = "NO_ERROR") -> dict:
    return {
        "results": [
            {
                "messageId": message_id,
                "status": {"groupId": group_id, "name": "X"},
                "error": {"id": error_id, "name": error_name, "permanent": bool(error_id)},
            }
        ]
    }


# --- SMPP -----------------------------------------------------------------------------------------------------


def smpp_config(org, smsc: Smsc, **options) -> GatewayConfig:
    # The loopback SMSC answers submit_sm with hex ids and reports receipts with decimal ones, unless told otherwise.
    settings = {"host": "127.0.0.1", "port": smsc.port, "system_id": "acme", "timeout": 2, "backoff": 0.01,
                "receipt_wait": 0.3, "submit_id_base": 16, "receipt_id_base": 10}  # fmt: skip
    settings.update(options)
    return GatewayConfig.objects.create(
        org=org, channel="sms", kind=GatewayConfig.Kind.SMPP, settings=settings, credentials={"password": "sm-pw-77"}
    )


def gateway(smsc: Smsc, **options) -> SmppGateway:
    return SmppGateway(host="127.0.0.1", port=smsc.port, system_id="acme", password="pw", timeout=2, **options)
