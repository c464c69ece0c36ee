"""Gateway configurations as support staff edit them on pages: which settings each kind of gateway reads (the
names the adapters in delivery/gateways/ read), which secrets it keeps, and saving them.

Where a gateway is (its URL, callback, SMPP or SMTP host) must be on the internet unless
GATEWAY_ALLOW_PRIVATE_ADDRESSES is on (delivery.gateways.addresses). Secrets are write-only: a page never shows one; an empty field keeps what is stored, and only an explicit "clear"
removes it. Making a configuration active deactivates the org's other one for that channel, in one transaction.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns.models import Channel, Org, User
from delivery.gateways.addresses import settings_address_problems
from delivery.gateways.simulated import parse_mix
from delivery.gateways.smpp import SmppGateway
from delivery.gateways.webhooks import RECEIPT_FORMATS
from delivery.models import GatewayConfig


@dataclass(frozen=True)
class Setting:
    name: str
    kind: str  # "text", "url", "int", "float", "bool", "email", or "choice"
    help: str = ""
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    minimum: float | None = None
    maximum: float | None = None


_RATE = Setting("rate_per_second", "float", "Messages per second for all workers together; empty: no limit.", minimum=0)
_TIMEOUT = Setting("timeout", "float", "Seconds to wait for the gateway.", minimum=0.1, maximum=120)
_RETRIES = Setting("max_retries", "int", "Tries again after a timeout, 5xx or 429.", minimum=0, maximum=10)
_BACKOFF = Setting("backoff", "float", "Seconds before the first retry; doubled each time.", minimum=0, maximum=60)
_PORT = Setting("port", "int", required=True, minimum=1, maximum=65535)
_ID_BASES = (("", "Detect"), ("16", "Hexadecimal"), ("10", "Decimal"))
# SMPP 3.4 §5.2.5 and §5.2.6: type of number and numbering plan of an address. Empty: the adapter's default.
_TONS = tuple(
    (str(value), f"{value}: {label}")
    for value, label in enumerate(
        ("Unknown", "International", "National", "Network specific", "Subscriber number", "Alphanumeric", "Abbreviated")
    )
)
_NPIS = tuple(
    (str(value), f"{value}: {label}")
    for value, label in (
        (0, "Unknown"), (1, "ISDN (E.164)"), (3, "Data (X.121)"), (4, "Telex (F.69)"), (6, "Land mobile (E.212)"),
        (8, "National"), (9, "Private"), (10, "ERMES"), (14, "Internet (IP)"), (18, "WAP client id"),
    )
)  # fmt: skip


def _address(name: str, choices: tuple, what: str) -> Setting:
    label = dict(choices)[str(getattr(SmppGateway, name))]  # the adapter's default
    return Setting(name, "choice", f"{what}; empty: {label}.", choices=(("", "Default"), *choices))


SETTINGS: dict[str, tuple[Setting, ...]] = {
    GatewayConfig.Kind.HTTP: (
        Setting("url", "url", "Messages are POSTed here as JSON.", required=True),
        Setting(
            "receipt_format", "choice", "The shape the gateway posts receipts in.", True, tuple(RECEIPT_FORMATS.items())
        ),
        _TIMEOUT,
        _RETRIES,
        _BACKOFF,
        _RATE,
        Setting("callback_url", "url", "Sent with each message when the gateway asks for a receipt address."),
    ),
    GatewayConfig.Kind.SMPP: (
        Setting("host", "text", required=True),
        _PORT,
        Setting("system_id", "text", required=True),
        Setting("system_type", "text"),
        Setting("submit_id_base", "choice", "How the SMSC writes message ids in submit_sm_resp.", choices=_ID_BASES),
        Setting("receipt_id_base", "choice", "How it writes them in receipts.", choices=_ID_BASES),
        Setting("entity_id_tlv", "text", "Tag of the DLT entity id TLV (default 0x1400)."),
        Setting("template_id_tlv", "text", "Tag of the DLT template id TLV (default 0x1401)."),
        _address("source_ton", _TONS, "Type of number of the sender (header)"),
        _address("source_npi", _NPIS, "Numbering plan of the sender"),
        _address("dest_ton", _TONS, "Type of number of the recipient"),
        _address("dest_npi", _NPIS, "Numbering plan of the recipient"),
        _TIMEOUT,
        _RETRIES,
        _BACKOFF,
        _RATE,
    ),
    GatewayConfig.Kind.EMAIL: (
        Setting("host", "text", "SMTP server.", required=True),
        _PORT,
        Setting("use_tls", "bool", "STARTTLS after connecting."),
        Setting("use_ssl", "bool", "TLS from the start (port 465)."),
        Setting("username", "text"),
        Setting("from_email", "email", "The From address of campaign emails.", required=True),
        _TIMEOUT,
    ),
    GatewayConfig.Kind.SIMULATED: (
        Setting("mix", "text", "Outcomes and weights, e.g. delivered:85,ndnc:5,undeliverable:10."),
        Setting("seed", "int", "The same seed gives the same outcomes.", minimum=0),
    ),
}
SECRETS: dict[str, tuple[str, ...]] = {
    GatewayConfig.Kind.HTTP: ("api_key", "webhook_secret", "webhook_token", "auth_token"),
    GatewayConfig.Kind.SMPP: ("password",),
    GatewayConfig.Kind.EMAIL: ("password",),
    GatewayConfig.Kind.SIMULATED: (),
}
CHANNELS = {GatewayConfig.Kind.EMAIL: (Channel.EMAIL,)}  # the others send SMS


def channels_for(kind: str) -> tuple[str, ...]:
    return CHANNELS.get(kind, (Channel.SMS,))


@transaction.atomic
def gateway_config_save(
    *,
    org: Org,
    user: User,
    kind: str,
    channel: str,
    name: str,
    settings: dict,
    new_secrets: dict[str, str],
    cleared_secrets: set[str],
    is_active: bool,
    config: GatewayConfig | None = None,
) -> GatewayConfig:
    """Create or change a gateway configuration; empty settings are left out, so the adapter's defaults apply."""
    if kind not in SETTINGS:
        raise ValidationError(f"Unknown kind of gateway: {kind}.")
    if channel not in channels_for(kind):
        raise ValidationError({"channel": f"A {GatewayConfig.Kind(kind).label} gateway cannot send {channel}."})
    if settings.get("mix"):
        try:
            parse_mix(settings["mix"])
        except ValueError as error:
            raise ValidationError({"mix": str(error)}) from None
    # A URL or host at a private, loopback or link-local address (the cloud's metadata service) is refused in words
    # next to its field; sending and Check connection check it again before connecting.
    problems = settings_address_problems(settings)
    if problems:
        raise ValidationError(problems)
    config = config or GatewayConfig(org=org)
    if config.org_id != org.pk:
        raise ValidationError("This gateway belongs to another organisation.")
    credentials = {k: v for k, v in (config.credentials or {}).items() if k not in cleared_secrets}
    credentials.update({k: v for k, v in new_secrets.items() if v and k in SECRETS[kind]})
    config.kind, config.channel, config.name, config.is_active = kind, channel, name.strip(), is_active
    config.settings = {k: v for k, v in settings.items() if v not in (None, "")}
    config.credentials = credentials
    if is_active:
        # One active gateway per org and channel (a partial unique constraint): the new one replaces the old.
        GatewayConfig.objects.filter(org=org, channel=channel, is_active=True).exclude(pk=config.pk).update(
            is_active=False
        )
    config.full_clean()
    config.save()
    return config
