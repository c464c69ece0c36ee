"""The Team page: an org's members and pending invitations, inviting a colleague, sending an invitation again,
cancelling it, removing a member; and the page on which an invitee chooses a password and joins.

A campaign manager manages the team of each org they belong to, support staff that of every org; another org's team
(and every action on it) is a 404, exactly like an org that does not exist.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns.accounts import sign_in, team
from campaigns.base.access import get_org_for_user, orgs_for_user
from campaigns.base.org_chooser import org_chosen, user_orgs
from campaigns.models import Membership, Org


class InviteForm(forms.Form):
    # A text field: campaigns.accounts.team normalises and checks the address, and says what is wrong with it.
    email = forms.CharField(
        label="Colleague's email address",
        max_length=team.EMAIL_MAX_LENGTH,
        help_text="They get an email with a link to choose a password; someone who already uses linktrack is "
        "simply added.",
        error_messages={
            "required": "Enter the email address of the colleague to invite.",
            "max_length": "This address is too long: at most %(limit_value)d characters.",
        },
        widget=forms.EmailInput(attrs={"size": 40, "placeholder": "name@company.in", "autocomplete": "off"}),
    )


def _get_membership_for_user(user, org_pk: int, pk: int) -> tuple[Org, Membership]:
    org = get_org_for_user(user, org_pk)
    return org, get_object_or_404(Membership.objects.select_related("user"), org=org, pk=pk)


def _team_url(org: Org) -> str:
    return f"{reverse('campaigns:team')}?org={org.pk}"


def _team_page(
    request,
    *,
    org: Org | None,
    form: InviteForm,
    orgs: list[Org] | None = None,
    confirm_remove: Membership | None = None,
    status: int = 200,
):
    orgs = user_orgs(request.user) if orgs is None else orgs
    context = {"org": org, "orgs": orgs, "form": form, "confirm_remove": confirm_remove}
    if org is not None:
        people = team.team_of_org(org=org)
        context["team"] = people
        # each member with why the user may not remove them ("" when they may)
        context["member_rows"] = [
            (membership, people.removal_refusal(membership, removed_by=request.user)) for membership in people.members
        ]
    return render(request, "campaigns/team.html", context, status=status)


@login_required
@require_GET
def team_page(request):
    orgs = user_orgs(request.user)
    return _team_page(request, org=org_chosen(request, orgs), orgs=orgs, form=InviteForm())


@login_required
@require_POST
def team_invite(request, org_pk: int):
    org = get_org_for_user(request.user, org_pk)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            membership = team.member_invite(org=org, email=form.cleaned_data["email"], invited_by=request.user)
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            if team.invitation_is_pending(membership.user):
                done = "has been emailed a link to choose a password and join"
            else:
                done = "already uses linktrack: they are added and have been told by email"
            messages.success(request, f"{membership.user.email} {done} {org.name}.")
            return redirect(_team_url(org))
    return _team_page(request, org=org, form=form, status=400)


@login_required
@require_POST
def team_invitation_resend(request, org_pk: int, pk: int):
    org, membership = _get_membership_for_user(request.user, org_pk, pk)
    try:
        team.invitation_resend(org=org, user=membership.user, resent_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"The invitation is emailed again to {membership.user.email}; the links sent before no longer work.",
        )
    return redirect(_team_url(org))


@login_required
@require_POST
def team_invitation_cancel(request, org_pk: int, pk: int):
    org, membership = _get_membership_for_user(request.user, org_pk, pk)
    try:
        account_deleted = team.invitation_cancel(org=org, user=membership.user, cancelled_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        effect = " Its link no longer works." if account_deleted else ""
        messages.success(request, f"The invitation of {membership.user.email} to {org.name} is cancelled.{effect}")
    return redirect(_team_url(org))


@login_required
@require_http_methods(["GET", "POST"])
def team_member_remove(request, org_pk: int, pk: int):
    """GET asks to confirm (on the Team page), POST removes."""
    org, membership = _get_membership_for_user(request.user, org_pk, pk)
    if request.method == "GET":
        return _team_page(request, org=org, form=InviteForm(), confirm_remove=membership)
    member = membership.user
    try:
        team.member_remove(org=org, user=member, removed_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_team_url(org))
    if member.pk == request.user.pk and not orgs_for_user(request.user).filter(pk=org.pk).exists():
        messages.success(request, f"You have left {org.name}.")
        return redirect("campaigns:list")
    messages.success(request, f"{member.email} is removed from {org.name} and no longer sees its campaigns.")
    return redirect(_team_url(org))


class TeamJoinView(sign_in.PasswordResetConfirmView):
    """The invitation link: the invitee chooses a password (SetPasswordForm, with the project's password
    validators), is signed in and lands on the campaigns. Django's reset view checks the token (once it has been
    opened, the token is kept in the session and the address no longer carries it); a used, expired, cancelled or
    mangled link shows the page in words instead of the form."""

    template_name = "campaigns/team_join.html"
    post_reset_login = True
    success_url = reverse_lazy("campaigns:list")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        # An account whose every invitation was cancelled (kept because it had signed in once) has nothing to join.
        if user is not None and not user.is_staff and not user.memberships.exists():
            return None
        return user

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(
            self.request, f"Welcome to linktrack: your password is set and you are signed in as {form.user}."
        )
        return response
