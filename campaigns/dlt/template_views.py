"""Campaign managers' pages for DLT templates and the org's DLT URL whitelist."""

from collections import defaultdict

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from campaigns.base.access import (
    get_org_for_user,
    get_template_for_user,
    orgs_for_user,
    templates_for_user,
)
from campaigns.dlt import trai
from campaigns.dlt.completeness import template_incomplete_problem, template_missing_pieces
from campaigns.dlt.forms import TemplateForm, WhitelistedUrlForm
from campaigns.dlt.parsing import TemplateError, parse_template
from campaigns.dlt.rendering import fixed_links
from campaigns.dlt.template_length import LONG_SMS_SEGMENTS, template_length
from campaigns.dlt.template_services import template_save
from campaigns.dlt.url_whitelist import whitelisted_url_add, whitelisted_url_remove
from campaigns.models import Channel, Template, WhitelistedUrl


def _whitelists(orgs) -> dict[int, trai.Whitelist]:
    """Every org's whitelist in one query."""
    urls = defaultdict(list)
    for org_id, url, kind in WhitelistedUrl.objects.filter(org__in=orgs).values_list("org_id", "url", "kind"):
        urls[org_id].append((url, kind))
    return {org.pk: trai.Whitelist(org, urls[org.pk]) for org in orgs}


@login_required
def template_list(request):
    templates = templates_for_user(request.user).select_related("org", "sender").order_by("org__name", "name")
    orgs = list(orgs_for_user(request.user).select_related("link_tracking_changed_by").order_by("name"))
    whitelists = _whitelists(orgs)
    rows = [
        (
            template,
            _links_outside_variables(template),
            trai.template_findings(
                org=template.org, body=template.body, channel=template.channel, whitelist=whitelists[template.org_id]
            ),
            template_missing_pieces(template),
        )
        for template in templates
    ]
    whitelist_states = [
        (org, len(whitelists[org.pk].entries), trai.org_findings(org=org, whitelist=whitelists[org.pk])) for org in orgs
    ]
    return render(
        request, "campaigns/template_list.html", {"rows": rows, "orgs": orgs, "whitelist_states": whitelist_states}
    )


def _links_outside_variables(template: Template) -> list[str]:
    """Links in an SMS template's fixed text: refused while the org's tracking is on."""
    if template.channel != Channel.SMS:
        return []
    try:
        return fixed_links(parse_template(template.body))
    except TemplateError:
        return []


@login_required
def template_new(request):
    orgs = orgs_for_user(request.user).order_by("name")
    form = TemplateForm(request.POST or None, orgs=orgs)
    if request.method == "POST" and form.is_valid():
        template = _save(request, form, org=form.cleaned_data["org"], template=None)
        if template:
            _saved(request, template)
            return redirect("campaigns:template-list")
    context = {"form": form, "orgs": orgs, **_length_context(form, template=None)}
    return render(request, "campaigns/template_form.html", context)


@login_required
def template_edit(request, pk: int):
    template = get_template_for_user(request.user, pk)
    form = TemplateForm(request.POST or None, instance=template, orgs=orgs_for_user(request.user))
    if request.method == "POST" and form.is_valid() and _save(request, form, org=template.org, template=template):
        _saved(request, template)
        return redirect("campaigns:template-list")
    findings = trai.template_findings(org=template.org, body=template.body, channel=template.channel)
    context = {
        "form": form,
        "template": template,
        "orgs": [template.org],
        "findings": findings,
        **_length_context(form, template=template),
    }
    return render(request, "campaigns/template_form.html", context)


def _length_context(form: TemplateForm, *, template: Template | None) -> dict:
    """The SMS length of the body on the page (as typed when the form comes back): the preview's figures."""
    body = form.data.get("body", "") if form.is_bound else (template.body if template else "")
    channel = (
        form.data.get("channel", Channel.SMS) if form.is_bound else (template.channel if template else Channel.SMS)
    )
    return {
        "sms_length": template_length(body) if channel == Channel.SMS else None,
        "variable_max": settings.DLT_VARIABLE_MAX_LENGTH,
        "warn_above": LONG_SMS_SEGMENTS,
    }


def _saved(request, template: Template) -> None:
    """Saved: TRAI's rules are warnings, never a reason to refuse a template the DLT portal has accepted."""
    template.refresh_from_db()
    messages.success(request, f"Template '{template.name}' saved.")
    incomplete = template_incomplete_problem(template)
    if incomplete:
        messages.warning(request, f"Saved as a draft. {incomplete}")
    for finding in trai.template_findings(org=template.org, body=template.body, channel=template.channel):
        messages.warning(request, f"{template.name}: {finding}")


def _save(request, form: TemplateForm, *, org, template: Template | None) -> Template | None:
    data = form.cleaned_data
    try:
        return template_save(
            org=org,
            user=request.user,
            template=Template.objects.get(pk=template.pk) if template else None,
            name=data["name"],
            channel=data["channel"],
            sender=data.get("sender"),
            dlt_template_id=data.get("dlt_template_id", ""),
            subject=data.get("subject", ""),
            body=data["body"],
            html_body=data.get("html_body", ""),
        )
    except ValidationError as error:
        form.add_error(None, error)
        return None


@login_required
def url_whitelist(request, org_pk: int):
    """The URLs the org whitelisted on the DLT portal: listed, added, removed by its campaign managers."""
    org = get_org_for_user(request.user, org_pk)
    form = WhitelistedUrlForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            entry = whitelisted_url_add(
                org=org, user=request.user, url=form.cleaned_data["url"], kind=form.cleaned_data["kind"]
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(request, f"'{entry.url}' is on {org.name}'s URL whitelist.")
            return redirect("campaigns:url-whitelist", org_pk=org.pk)
    entries = org.whitelisted_urls.select_related("created_by").order_by("url")
    context = {
        "org": org,
        "form": form,
        "entries": entries,
        "findings": trai.org_findings(org=org),
        "short_link_prefix": trai.short_link_prefix(org),
    }
    return render(request, "campaigns/url_whitelist.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def url_whitelist_remove(request, org_pk: int, pk: int):
    org = get_org_for_user(request.user, org_pk)
    entry = get_object_or_404(WhitelistedUrl, org=org, pk=pk)
    whitelisted_url_remove(entry=entry, user=request.user)
    if org.whitelisted_urls.exists():
        effect = "Launching a campaign whose links only it covered is now refused."
    else:
        effect = "The whitelist is empty: links are no longer checked before launch."
    messages.success(request, f"'{entry.url}' removed from {org.name}'s URL whitelist. {effect}")
    return redirect("campaigns:url-whitelist", org_pk=org.pk)
