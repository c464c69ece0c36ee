"""Campaign managers' pages for DLT templates, and the campaign preview."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from campaigns.dlt import TemplateError, parse_template
from campaigns.forms import TemplateForm
from campaigns.models import Campaign, Channel, Template
from campaigns.preview import campaign_preview, preview_audience
from campaigns.rendering import fixed_links
from campaigns.selectors import campaigns_for_user, orgs_for_user, templates_for_user
from campaigns.template_services import template_save

SAMPLE_CHOICES = 50


def _get_template_for_user(user, pk: int) -> Template:
    """Another org's template is a 404, exactly like a template that does not exist."""
    return get_object_or_404(templates_for_user(user), pk=pk)


def _get_campaign_for_user(user, pk: int) -> Campaign:
    return get_object_or_404(campaigns_for_user(user).select_related("template__sender"), pk=pk)


@login_required
def template_list(request):
    templates = templates_for_user(request.user).order_by("org__name", "name")
    orgs = orgs_for_user(request.user).select_related("link_tracking_changed_by").order_by("name")
    rows = [(template, _links_outside_variables(template)) for template in templates]
    return render(request, "campaigns/template_list.html", {"rows": rows, "orgs": orgs})


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
            messages.success(request, f"Template '{template.name}' saved.")
            return redirect("campaigns:template-list")
    return render(request, "campaigns/template_form.html", {"form": form, "orgs": orgs})


@login_required
def template_edit(request, pk: int):
    template = _get_template_for_user(request.user, pk)
    form = TemplateForm(request.POST or None, instance=template, orgs=orgs_for_user(request.user))
    if request.method == "POST" and form.is_valid() and _save(request, form, org=template.org, template=template):
        messages.success(request, f"Template '{template.name}' saved.")
        return redirect("campaigns:template-list")
    return render(request, "campaigns/template_form.html", {"form": form, "template": template, "orgs": [template.org]})


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
def campaign_preview_page(request, pk: int):
    campaign = _get_campaign_for_user(request.user, pk)
    audience = preview_audience(campaign=campaign)
    samples = list(audience.order_by("pk")[:SAMPLE_CHOICES])
    customer = None
    if request.GET.get("customer", "").isdigit():
        customer = get_object_or_404(audience, pk=int(request.GET["customer"]))
    preview = campaign_preview(campaign=campaign, customer=customer)
    return render(request, "campaigns/preview.html", {"campaign": campaign, "preview": preview, "samples": samples})
