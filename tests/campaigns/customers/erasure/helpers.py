"""Helpers of the customer erasure tests: Asha's personal data, clicks, a campaign's figures and exports."""

import re

from delivery.models import Message

NAME, MOBILE, NATIONAL, EMAIL, EXTERNAL_ID = (
    "Asha Kulkarni",
    "+919876543210",
    "9876543210",
    "asha.k@example.in",
    "AK-4711",
)
PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def _click(client, message: Message, agent: str) -> None:
    code = re.search(r"/s/(\w+)", message.body).group(1)
    assert client.get(f"/s/{code}", HTTP_USER_AGENT=agent).status_code == 302
