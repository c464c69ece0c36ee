"""Calling a webhook's endpoint: its address checked when saved and again at each call (the call goes to the very
address checked; private ones refused unless allowed, no redirects followed), the body signed, the answer read."""

import hashlib
import hmac
import http.client
import json
import ssl
import time
import urllib.parse
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from linktrack.common import outbound
from linktrack.common.outbound import tls_context

TIMEOUT_SECONDS = 5.0


SIGNATURE_HEADER = "X-Linktrack-Signature"


USER_AGENT = "linktrack-webhooks"


def private_addresses_allowed() -> bool:
    return bool(settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES)


def validate_webhook_url(url: str) -> str:
    """The address, stripped, or a ValidationError saying in words what is wrong with it."""
    url = url.strip()
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError(
            "This is not a web address: write it whole, e.g. https://crm.acme.in/linktrack."
        ) from None
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise ValidationError("Write the whole address, starting with https://, e.g. https://crm.acme.in/linktrack.")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            "Leave the user name and password out of the address: the signature on every call proves that it "
            "comes from linktrack, and an address is shown on pages and kept in logs."
        )
    if parts.scheme == "http" and not (private_addresses_allowed() and outbound.is_loopback_host(host)):
        raise ValidationError(
            "Use https://: clicks carry your customers' numbers and email addresses, so they travel encrypted. "
            "(http:// works only for an address on this machine while testing.)"
        )
    if port == 0:
        raise ValidationError("Port 0 cannot be called: leave the port out or write the one your system listens on.")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError(
            "linktrack cannot call this address as written: check its spelling (a web address has no spaces, and "
            "its host name only letters, digits, dots and hyphens)."
        ) from None
    literal = outbound.ip_literal(host)
    problem = outbound.address_problem(literal) if literal is not None else ""
    if problem and not private_addresses_allowed():
        raise ValidationError(
            f"{host} is {problem}: linktrack calls only addresses on the internet. Give the public address of "
            "your system."
        )
    if host.lower() in outbound.LOOPBACK_NAMES and not private_addresses_allowed():
        raise ValidationError("localhost is this machine: linktrack calls only addresses on the internet.")
    return url


class Refused(Exception):
    """A call linktrack will not make; the message says why, in words."""


def _addresses_to_call(host: str, port: int) -> list[str]:
    """The host's addresses, all checked (see linktrack.common.outbound), or Refused in the webhooks page's words."""
    try:
        return outbound.addresses_to_call(host, port, allow_private=private_addresses_allowed())
    except outbound.PrivateAddress as refused:
        raise Refused(
            f"Not sent: {refused.shown} {refused.problem}. linktrack calls only addresses on the internet."
        ) from None
    except outbound.Refused as refused:
        raise Refused(str(refused)) from None


@dataclass(frozen=True)
class CallResult:
    ok: bool
    words: str  # what happened, for the page: "answered 200 OK in 35 ms", "no answer within 5 seconds"


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The X-Linktrack-Signature value: `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>." + body>`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_post(url: str, secret: str, body: bytes) -> CallResult:
    """POST `body`, signed, to `url`: one attempt, TIMEOUT_SECONDS to connect and as long for the answer."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        addresses = _addresses_to_call(host, port)
    except Refused as refused:
        return CallResult(False, str(refused))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(secret=secret, timestamp=int(time.time()), body=body),
        "Connection": "close",
    }
    started = time.monotonic()
    could_not_connect = ""
    for address in addresses:
        connection = outbound.pinned_connection(
            parts.scheme,
            host,
            port,
            address=address,
            timeout=TIMEOUT_SECONDS,
            # Looked up here at each call, so that tests can trust their own certificate authority.
            context=tls_context() if parts.scheme == "https" else None,
        )
        try:
            connection.connect()
        except ssl.SSLCertVerificationError as error:
            connection.close()
            return CallResult(False, f"The TLS certificate of {host} is not valid: {error.verify_message}.")
        except ssl.SSLError as error:
            connection.close()
            return CallResult(False, f"The TLS connection to {host} failed: {error.reason or error}.")
        except TimeoutError:
            connection.close()
            could_not_connect = f"Could not connect to {host} within {TIMEOUT_SECONDS:g} seconds."
            continue  # another address of the host may answer
        except OSError as error:
            connection.close()
            could_not_connect = f"Could not connect to {host}: {error.strerror or error}."
            continue
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()  # status and headers only: the body is never read
            return _result_of(response, int((time.monotonic() - started) * 1000))
        except TimeoutError:
            return CallResult(False, f"No answer from {host} within {TIMEOUT_SECONDS:g} seconds.")
        except http.client.RemoteDisconnected:
            return CallResult(False, f"{host} closed the connection without answering.")
        except http.client.HTTPException as error:
            return CallResult(False, f"{host} answered something that is not HTTP ({type(error).__name__}).")
        except OSError as error:
            return CallResult(False, f"The connection to {host} failed: {error.strerror or error}.")
        finally:
            connection.close()
    return CallResult(False, could_not_connect)


def _result_of(response: http.client.HTTPResponse, milliseconds: int) -> CallResult:
    answered = f"answered {response.status} {response.reason}".rstrip()
    if 200 <= response.status < 300:
        return CallResult(True, f"Your endpoint {answered} in {milliseconds} ms.")
    if 300 <= response.status < 400:
        where = response.getheader("Location", "")
        return CallResult(
            False,
            f"Your endpoint {answered}, a redirect{f' to {where[:200]}' if where else ''}. Redirects are not "
            "followed: give the final address.",
        )
    return CallResult(False, f"Your endpoint {answered}; only a 2xx answer counts as received.")


def json_body(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
