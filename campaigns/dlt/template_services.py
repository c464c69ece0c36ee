"""Creating and editing DLT templates: the body must parse, and links must be where tracking can handle them."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns.dlt.parsing import TemplateError, parse_template
from campaigns.dlt.rendering import email_template_field_problems, template_link_problems
from campaigns.models import Channel, Org, SenderId, Template, User


def template_errors(
    *,
    org: Org,
    channel: str,
    subject: str,
    body: str,
    html_body: str,
    sender: SenderId | None = None,
    dlt_template_id: str = "",
) -> dict[str, list[str]]:
    """Every problem with a template, by form field (all of them at once); empty when it can be saved. Only the
    chosen channel's fields are checked: an email's subject and HTML, an SMS's sender and DLT template id."""
    errors: dict[str, list[str]] = {}
    if channel == Channel.EMAIL:
        for part, message in email_template_field_problems(body=body, html_body=html_body, subject=subject):
            errors.setdefault(part, []).append(message)
        return errors
    if sender is not None and sender.org_id != org.pk:
        errors["sender"] = ["This sender id belongs to another organisation."]
    if dlt_template_id and not re.fullmatch(r"\d{19}", dlt_template_id):
        errors["dlt_template_id"] = ["A DLT template id is 19 digits, as on the DLT portal."]
    try:
        parsed = parse_template(body)
    except TemplateError as error:
        errors["body"] = [f"{error}."]
        return errors
    problems = template_link_problems(org=org, parsed=parsed)
    if problems:
        errors["body"] = problems
    return errors


@transaction.atomic
def template_save(
    *,
    org: Org,
    user: User,
    template: Template | None = None,
    name: str,
    channel: str,
    sender: SenderId | None,
    dlt_template_id: str,
    subject: str,
    body: str,
    html_body: str,
) -> Template:
    """Create a template for `org` (or change `template`); raises ValidationError with errors by field."""
    if channel == Channel.EMAIL:
        sender, dlt_template_id = None, ""
    errors = template_errors(
        org=org,
        channel=channel,
        subject=subject,
        body=body,
        html_body=html_body,
        sender=sender,
        dlt_template_id=dlt_template_id,
    )
    if template is not None and template.pk and "body" not in errors:
        _check_slots_unchanged(template, body, errors)
    if errors:
        raise ValidationError(errors)
    template = template or Template(org=org)
    template.name, template.channel, template.sender = name, channel, sender
    template.dlt_template_id, template.body = dlt_template_id, body
    template.subject, template.html_body = (subject, html_body) if channel == Channel.EMAIL else ("", "")
    template.full_clean()
    template.save()
    return template


def _check_slots_unchanged(template: Template, body: str, errors: dict) -> None:
    """Campaigns hold one value per variable: a template in use keeps its variables."""
    try:
        before = parse_template(template.body).slots
    except TemplateError:
        return
    if parse_template(body).slots == before:
        return
    names = list(template.campaigns.order_by("name").values_list("name", flat=True)[:5])
    if names:
        errors.setdefault("body", []).append(
            f"The variables changed, but campaigns use this template ({', '.join(names)}) and hold one value per "
            f"variable. Keep the variables as they are, or create a new template."
        )
