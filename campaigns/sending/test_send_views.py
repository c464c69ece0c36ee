"""The preview's "Send a test": a draft campaign's real message to a few of the manager's own numbers or addresses."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from campaigns.base.access import get_campaign_for_user
from campaigns.sending.forms import ProofForm
from campaigns.sending.preview_views import campaign_preview_page
from campaigns.sending.test_sends import ProofRefused, proof_outcome_in_words, proof_send


@login_required
@require_POST
def campaign_proof_send(request, pk: int):
    campaign = get_campaign_for_user(request.user, pk)  # another org's campaign is a 404
    form = ProofForm(request.POST, channel=campaign.template.channel)
    if form.is_valid():
        try:
            proof = proof_send(campaign=campaign, user=request.user, recipients=form.cleaned_data["recipients"])
        except ProofRefused as refused:
            form.add_error("recipients", str(refused))
        else:
            sent, not_sent, waiting = proof_outcome_in_words(proof)
            if sent:
                messages.success(request, f"Test handed to the gateway for {', '.join(sent)}.")
            if waiting:
                messages.info(
                    request,
                    f"Test queued for {', '.join(waiting)}: it is being handed to the gateway. "
                    "Its row below follows what becomes of it.",
                )
            if not_sent:
                messages.error(request, f"Test not sent to {'; '.join(not_sent)}.")
            return redirect(reverse("campaigns:preview", args=[campaign.pk]) + "#proofs")
    # The preview again, with the form's errors next to the field and what was typed kept.
    return campaign_preview_page(request, pk, proof_form=form)
