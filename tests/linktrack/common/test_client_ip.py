"""The client's address is read from X-Forwarded-For only as far as TRUSTED_PROXY_COUNT trusts it: a client that
writes the header itself neither escapes the per-address sign-in throttle nor changes its clicks' hashed address."""

import pytest
from django.test import Client, RequestFactory

from linktrack.common.client_ip import client_ip
from linktrack.models import Click
from linktrack.redirect import clicks
from tests.factories import PASSWORD, CampaignFactory, make_messages
from tests.linktrack.helpers import link_for, path_for

CLIENT = "203.0.113.5"  # the client as our outermost proxy sees it
PROXY = "10.0.0.2"  # our proxy, as gunicorn sees it (REMOTE_ADDR)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _address(forwarded_for: str | None, remote: str, **headers) -> str:
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote, **headers))


@pytest.mark.parametrize(
    "proxies, forwarded_for, remote, expected",
    [
        # no proxy: the connection's peer, whatever the client writes in the header
        (0, None, CLIENT, CLIENT),
        (0, "198.51.100.66", CLIENT, CLIENT),
        # one proxy appends the address it was reached from: the last one; what the client wrote comes before
        (1, CLIENT, PROXY, CLIENT),
        (1, f"198.51.100.66, {CLIENT}", PROXY, CLIENT),
        (1, f"198.51.100.66,{CLIENT}", PROXY, CLIENT),
        # two proxies: the second from the right
        (2, f"198.51.100.66, {CLIENT}, 10.0.0.1", PROXY, CLIENT),
        # a header too short to have come through every proxy: the peer
        (2, CLIENT, PROXY, PROXY),
        (1, None, PROXY, PROXY),
        (1, "", PROXY, PROXY),
    ],
)
def test_the_address_is_the_nth_from_the_right_of_x_forwarded_for(settings, proxies, forwarded_for, remote, expected):
    settings.TRUSTED_PROXY_COUNT = proxies

    assert _address(forwarded_for, remote) == expected


def test_a_header_the_proxy_overwrites_is_read_when_named(settings):
    settings.CLICK_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"

    assert _address("198.51.100.66", PROXY, HTTP_X_REAL_IP=CLIENT) == CLIENT
    assert _address(None, PROXY) == PROXY


def _sign_in(client: Client, email: str, password: str, forwarded_for: str, remote: str):
    return client.post(
        "/accounts/login/",
        {"username": email, "password": password},
        HTTP_X_FORWARDED_FOR=forwarded_for,
        REMOTE_ADDR=remote,
    )


def _forged(n: int, *, proxies: int) -> str:
    """X-Forwarded-For as the app receives it: what the client wrote, then what our proxy (if any) appended."""
    return ", ".join([f"198.51.100.{n}", *([CLIENT] if proxies else [])])


@pytest.mark.parametrize("proxies, remote", [(0, CLIENT), (1, PROXY)])
def test_a_forged_x_forwarded_for_does_not_escape_the_per_address_sign_in_limit(manager, settings, proxies, remote):
    # given a client that reached the limit of failures from its address, forging a new X-Forwarded-For each time
    settings.TRUSTED_PROXY_COUNT = proxies
    settings.LOGIN_FAILURE_LIMIT_PER_IP = 3
    for n in range(3):
        response = _sign_in(Client(), f"guess{n}@acme.test", "wrong", _forged(n, proxies=proxies), remote)
        assert response.status_code == 200

    # when it tries once more with yet another forged address, then it is refused as the client it is
    refused = _sign_in(Client(), "manager@acme.test", PASSWORD, _forged(99, proxies=proxies), remote)
    assert refused.status_code == 429


def test_behind_one_proxy_another_client_is_not_refused_with_the_one_that_failed(manager, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_FAILURE_LIMIT_PER_IP = 3
    for n in range(3):
        _sign_in(Client(), f"guess{n}@acme.test", "wrong", _forged(n, proxies=1), PROXY)

    another = _sign_in(Client(), "manager@acme.test", PASSWORD, "198.51.100.200", PROXY)

    assert another.status_code == 302


@pytest.mark.parametrize("proxies, remote", [(0, CLIENT), (1, PROXY)])
def test_a_forged_x_forwarded_for_does_not_change_the_hashed_address_of_a_click(
    client, settings, template, customers, proxies, remote
):
    settings.TRUSTED_PROXY_COUNT = proxies
    campaign = CampaignFactory(template=template)
    message = make_messages(campaign, customers[:1])[0]
    forged = "198.51.100.66" + (f", {CLIENT}" if proxies else "")

    response = client.get(path_for(link_for(campaign), message), HTTP_X_FORWARDED_FOR=forged, REMOTE_ADDR=remote)

    assert response.status_code == 302
    assert Click.objects.get().ip_hash == clicks.hash_ip(CLIENT)
