"""How long a template's SMS are, on the template page as the preview shows a message: characters, encoding and
segments of its fixed text, and of a message whose every variable is at its DLT limit."""

from dataclasses import dataclass

from campaigns.dlt.parsing import TemplateError, parse_template, slot_limit
from campaigns.dlt.sms_length import SmsLength, sms_length

# Above this many segments a message is long enough to check twice: each segment is a credit per recipient, and
# some phones and gateways handle very long concatenated SMS badly.
LONG_SMS_SEGMENTS = 6


@dataclass(frozen=True)
class TemplateLength:
    fixed: SmsLength  # the fixed text alone: every message has at least this
    at_limit: SmsLength | None  # every variable filled to its limit (None when the body does not parse)
    variables: int

    @property
    def long(self) -> bool:
        return self.fixed.segments > LONG_SMS_SEGMENTS


def template_length(body: str) -> TemplateLength:
    try:
        parsed = parse_template(body)
    except TemplateError:
        return TemplateLength(fixed=sms_length(body), at_limit=None, variables=0)
    filled = parsed.render(["x" * slot_limit(kind) for kind in parsed.slots])
    return TemplateLength(
        fixed=sms_length("".join(parsed.fixed)), at_limit=sms_length(filled), variables=len(parsed.slots)
    )
