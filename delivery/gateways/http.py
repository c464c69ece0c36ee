"""An HTTP gateway: one JSON POST per message, with DLT ids and sender, retries and a global send rate.

Retries only what can succeed later: timeouts, 5xx and 429, with exponential backoff. A refusal (other 4xx) or
an answer that cannot be understood is final at once (the gateway may have taken the message: never send twice).
A redirect (3xx) is such an answer: it is recorded and never followed, since following it would send the message
(and the API key) to wherever the answer points. The gateway's host is checked before each connection
(delivery.gateways.addresses) and the connection goes to the address that was checked.

Every request carries our message id as its `reference`, the same on every retry and every hand-over. A gateway that
drops a second message with a reference it has seen (setting `drops_repeated_reference`) can be handed a message
again after a worker died mid hand-over; for any other, such a message is "may have been sent" and is never sent
again (campaigns.sending.supervisor).
"""

import http.client
import json
import socket
import time
import urllib.parse
from dataclasses import dataclass, field

from delivery.gateways import addresses
from delivery.gateways.base import Exchange, OutgoingMessage, SubmitResult
from delivery.gateways.codes import http_submit_reason
from delivery.gateways.ratelimit import RateLimiter
from linktrack.common.outbound import pinned_connection, tls_context

DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 0.5


class _Retryable(Exception):
    def __init__(self, reason_code: str, gateway_error: str):
        super().__init__(gateway_error)
        self.reason_code = reason_code
        self.gateway_error = gateway_error


@dataclass
class HttpGateway:
    url: str
    api_key: str = ""
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_RETRIES
    backoff: float = DEFAULT_BACKOFF
    callback_url: str = ""
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(key="none", per_second=0))
    # The gateway drops a repeated `reference`: handing a message over again cannot make a second SMS.
    deduplicates_message_ids: bool = False
    name: str = "http"
    allow_private: bool = field(default_factory=addresses.allow_private)
    # One POST per message: messages are handed over and recorded in slices of this many, so a worker that dies
    # mid-batch leaves at most one slice whose outcome is unknown.
    records_every: int = 20

    def send_batch(self, messages: list[OutgoingMessage]) -> list[SubmitResult]:
        return [self.send_one(message) for message in messages]

    def connection_check(self) -> str:
        """Open a connection (and the TLS session) to the gateway's host, sending no request: a test message
        would cost money and reach a phone."""
        scheme, host, port, _path = self._where()
        address = addresses.address_to_call(host, port, allow_private=self.allow_private)
        with socket.create_connection((address, port), timeout=self.timeout) as connection:
            if scheme == "https":
                with tls_context().wrap_socket(connection, server_hostname=host):
                    return f"{host}:{port} accepted a TLS connection (no message was sent)"
        return f"{host}:{port} accepted a connection (no message was sent)"

    def _where(self) -> tuple[str, str, int, str]:
        """Scheme, host, port and path (with its query) of the gateway's URL."""
        parts = urllib.parse.urlsplit(self.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return (
            parts.scheme,
            parts.hostname or "",
            port,
            (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        )

    def payload(self, message: OutgoingMessage) -> dict:
        payload = {
            "to": message.recipient,
            "from": message.sender,
            "text": message.body,
            "dlt_entity_id": message.dlt_entity_id,
            "dlt_template_id": message.dlt_template_id,
            "reference": str(message.message_id),
        }
        if self.callback_url:
            payload["callback_url"] = self.callback_url
        return payload

    def send_one(self, message: OutgoingMessage) -> SubmitResult:
        body = json.dumps(self.payload(message)).encode()
        exchanges: list[Exchange] = []
        last: _Retryable | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            self.limiter.wait()
            try:
                return self._attempt(message, body, exchanges)
            except _Retryable as retryable:
                last = retryable
        assert last is not None
        # Out of attempts: a gateway that only ever timed out did not accept in time; otherwise it kept failing.
        reason = "gateway_timeout" if last.reason_code == "gateway_timeout" else "gateway_retries_exhausted"
        return SubmitResult(
            message.message_id, False, reason_code=reason, gateway_error=last.gateway_error, exchanges=tuple(exchanges)
        )

    def _attempt(self, message: OutgoingMessage, body: bytes, exchanges: list[Exchange]) -> SubmitResult:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        logged_request = f"POST {self.url}\n" + "".join(f"{k}: {v}\n" for k, v in headers.items()) + body.decode()
        started = time.monotonic()

        def log(response: str = "", error: str = "") -> None:
            duration = int((time.monotonic() - started) * 1000)
            exchanges.append(Exchange("submit", logged_request, response, error, duration))

        def result(accepted: bool, **fields) -> SubmitResult:
            return SubmitResult(message.message_id, accepted, exchanges=tuple(exchanges), **fields)

        scheme, host, port, path = self._where()
        try:
            address = addresses.address_to_call(host, port, allow_private=self.allow_private)
        except addresses.Refused as refused:  # nothing was sent: no connection was made
            log(error=f"not called: {refused}")
            return result(False, reason_code="gateway_submit_failed", gateway_error="HTTP:address-refused")
        connection = pinned_connection(scheme, host, port, address=address, timeout=self.timeout)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            status, text = response.status, response.read().decode("utf-8", "replace")
        except TimeoutError as error:
            log(error=f"timed out after {self.timeout}s: {error}")
            raise _Retryable("gateway_timeout", "HTTP:timeout") from None
        except http.client.HTTPException as error:
            log(error=f"the answer is not HTTP: {error!r}")
            return result(False, reason_code="gateway_bad_response", gateway_error="HTTP:unreadable")
        except OSError as error:
            log(error=f"could not connect: {error}")
            return result(False, reason_code="gateway_submit_failed", gateway_error="HTTP:connect")
        finally:
            connection.close()

        log(response=f"HTTP {status}\n{text[:4000]}")
        if status == 429 or status >= 500:
            raise _Retryable("gateway_retries_exhausted", f"HTTP:{status}")
        if 300 <= status < 400:
            # never followed: the message and the API key would go wherever the answer points
            return result(False, reason_code="gateway_bad_response", gateway_error=f"HTTP:{status}:redirect")
        if status >= 400:
            code = _error_code(text)
            return result(
                False,
                reason_code=http_submit_reason(code) if code else "gateway_submit_failed",
                gateway_error=f"HTTP:{status}" + (f":{code}" if code else ""),
            )
        gateway_message_id = _message_id(text)
        if not gateway_message_id:
            return result(False, reason_code="gateway_bad_response", gateway_error=f"HTTP:{status}:unreadable")
        return result(True, gateway_message_id=gateway_message_id)


def _parse(text: str) -> dict | None:
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _message_id(text: str) -> str:
    """The gateway's id for the message, from the shapes gateways answer with (ours, Twilio's, Infobip's)."""
    parsed = _parse(text)
    if parsed is None:
        return ""
    for key in ("message_id", "id", "sid", "messageId"):
        if isinstance(parsed.get(key), str | int) and str(parsed[key]).strip():
            return str(parsed[key]).strip()
    messages = parsed.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        value = messages[0].get("messageId")
        if isinstance(value, str | int) and str(value).strip():
            return str(value).strip()
    return ""


def _error_code(text: str) -> str:
    parsed = _parse(text)
    if parsed is None:
        return ""
    error = parsed.get("error")
    if isinstance(error, dict):
        return str(error.get("code", ""))[:40]
    if isinstance(error, str):
        return error[:40]
    return str(parsed.get("code", ""))[:40]
