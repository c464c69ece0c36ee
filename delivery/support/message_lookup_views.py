"""Support staff: find a message from a ticket's mobile number, email, gateway id or short link."""

from django import forms
from django.shortcuts import render

from campaigns.base.access import staff_required
from campaigns.models import Org
from delivery.support.message_lookup import message_lookup


class MessageLookupForm(forms.Form):
    q = forms.CharField(
        max_length=300,
        label="Mobile number, email address, gateway message id or short link",
        widget=forms.TextInput(attrs={"size": 50, "autofocus": True}),
        error_messages={"required": "Type what the ticket gives: a number, an address, an id or a link."},
    )
    org = forms.ModelChoiceField(
        queryset=Org.objects.order_by("name"), required=False, label="Organisation", empty_label="Every organisation"
    )


@staff_required
def message_lookup_page(request):
    form = MessageLookupForm(request.GET or None)
    lookup = message_lookup(form.cleaned_data["q"], org=form.cleaned_data["org"]) if form.is_valid() else None
    return render(request, "support/message_lookup.html", {"form": form, "lookup": lookup})
