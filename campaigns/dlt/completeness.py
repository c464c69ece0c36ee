"""What a template needs before anything is sent with it. A template may be saved without its sender or DLT ids
(a draft, say, while the DLT portal approves it), but every operator rejects an SMS that lacks them: launching, each
recurring run, a held or paused campaign starting again, a resend and a test are refused until it is complete."""

import re

from campaigns.models import Channel, Template

_DLT_ID = re.compile(r"\d{19}")


def template_missing_pieces(template: Template) -> list[str]:
    """What the template lacks, to follow "it has" ("no sender (header)"); empty when messages may go out with it.

    SMS: a sender (DLT header) with its 19-digit PE id, and the 19-digit DLT template id. Email: a subject (the
    sender address is the org's email gateway's, not the template's)."""
    if template.channel == Channel.EMAIL:
        return [] if template.subject.strip() else ["no subject"]
    missing = []
    if template.sender_id is None:
        missing.append("no sender (header)")
    elif not _DLT_ID.fullmatch(template.sender.dlt_entity_id or ""):
        missing.append(f"a sender ({template.sender.header}) without its 19-digit DLT PE id")
    if not _DLT_ID.fullmatch(template.dlt_template_id or ""):
        missing.append("no 19-digit DLT template id")
    return missing


def template_incomplete_problem(template: Template) -> str:
    """Why nothing may be sent with this template, in words; "" when it is complete."""
    missing = template_missing_pieces(template)
    if not missing:
        return ""
    if template.channel == Channel.EMAIL:
        return (
            f"The template “{template.name}” is incomplete: it has {' and '.join(missing)}. Add it on the template's "
            "page, then try again."
        )
    return (
        f"The template “{template.name}” is incomplete: it has {' and '.join(missing)}. Operators reject "
        "such messages: add what is missing on the template's page, as registered on the DLT portal, then try again."
    )
