"""Where a gateway may be: only on the internet, as the click webhooks and the link check (linktrack.common.outbound).

Support staff type a gateway's URL, callback, SMPP or SMTP host; pointed at this machine, the private network or a
cloud provider's metadata service (169.254.169.254), sending or *Check connection* would let them reach what only
linktrack can, and read the answers in the gateway log. So such an address is refused when the settings are saved
(in words, next to the field) and again before every connection, which goes to the very address that was checked.
GATEWAY_ALLOW_PRIVATE_ADDRESSES (off by default) allows them, for a gateway inside your own network or in tests.
"""

from urllib.parse import urlsplit

from django.conf import settings

from linktrack.common.outbound import HostNotFound, PrivateAddress, Refused, addresses_to_call

__all__ = ["Refused", "address_to_call", "allow_private", "settings_address_problems"]

# The settings (delivery/support/gateway_settings.py) that name where a gateway of each kind is.
URL_SETTINGS = ("url", "callback_url")
HOST_SETTINGS = ("host",)


def allow_private() -> bool:
    return bool(settings.GATEWAY_ALLOW_PRIVATE_ADDRESSES)


def address_to_call(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to for `host`: every address it resolves to is checked first. Raises Refused
    (HostNotFound, PrivateAddress) before any connection is made."""
    return addresses_to_call(host, port, allow_private=allow_private)[0]


def settings_address_problems(options: dict) -> dict[str, str]:
    """Per setting, why linktrack will not call the address it names, in words; empty when all are fine.

    A host DNS cannot find now is left to the connection (it may be a name only your network resolves, and sending
    checks it again); a private address is refused unless GATEWAY_ALLOW_PRIVATE_ADDRESSES is on.
    """
    if allow_private():
        return {}
    problems = {}
    for name in (*URL_SETTINGS, *HOST_SETTINGS):
        value = options.get(name)
        if not value or not isinstance(value, str):
            continue
        if name in URL_SETTINGS:
            try:
                parts = urlsplit(value)
                host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
            except ValueError:
                continue  # the field's own check says what is wrong with it
        else:
            host, port = value.strip(), _port(options.get("port"))
        if not host:
            continue
        try:
            addresses_to_call(host, port, allow_private=False)
        except PrivateAddress as refused:
            problems[name] = (
                f"{refused} linktrack calls gateways only at public internet addresses "
                "(GATEWAY_ALLOW_PRIVATE_ADDRESSES is off)."
            )
        except HostNotFound:
            continue
    return problems


def _port(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
