"""Team management: a campaign manager (or support staff, for any org) invites a colleague by email, re-sends or
cancels a pending invitation, and removes a member.

An invitation is a Membership. A new address becomes a User with an unusable password and the Membership; the
invitee gets an email with a one-time link to choose a password (campaigns.accounts.team_views.TeamJoinView), which signs them
in. Someone who already has an account is only added, and told so by email. Until the invitee has chosen a password
and signed in, the invitation is *pending*: it can be sent again or cancelled.

Nothing else has to happen when a member is removed: every page checks membership on every request
(campaigns.base.access.orgs_for_user), so a removed member's open sessions simply no longer see the org.
"""

import logging
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from campaigns.models import Membership, Org, User
from linktrack.common.absolute_urls import public_url

logger = logging.getLogger(__name__)

EMAIL_MAX_LENGTH = 254  # RFC 5321, and User.email's column
INVITE_SUBJECT = "campaigns/team_invite_subject.txt"
INVITE_BODY = "campaigns/team_invite_email.txt"


def invitation_is_pending(user: User) -> bool:
    """The invitee has not joined yet: they have chosen no password and never signed in."""
    return not user.has_usable_password() and user.last_login is None


@dataclass(frozen=True)
class Team:
    """An org's people as its Team page shows them: who has joined, and who is invited and has not yet."""

    org: Org
    members: list[Membership]
    invitations: list[Membership]

    def removal_refusal(self, membership: Membership, *, removed_by: User) -> str:
        """As member_remove would answer, without a query: "" when `removed_by` may remove the member."""
        return removal_refusal(
            org=self.org, member=membership.user, removed_by=removed_by, others_joined=len(self.members) - 1
        )


def team_of_org(*, org: Org) -> Team:
    """The org's members and pending invitations, in one query however many there are."""
    memberships = list(org.memberships.select_related("user", "invited_by").order_by("user__email"))
    return Team(
        org=org,
        members=[m for m in memberships if not invitation_is_pending(m.user)],
        invitations=[m for m in memberships if invitation_is_pending(m.user)],
    )


def email_normalise(email: str) -> str:
    """The address as linktrack keeps it (lower case, no surrounding spaces), or a ValidationError in words."""
    email = (email or "").strip().lower()
    if not email:
        raise ValidationError({"email": "Enter the email address of the colleague to invite."})
    if len(email) > EMAIL_MAX_LENGTH:
        raise ValidationError({"email": f"This address is too long: at most {EMAIL_MAX_LENGTH} characters."})
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": f"“{email}” is not an email address: write it as name@company.in."}) from None
    return email


@transaction.atomic
def member_invite(*, org: Org, email: str, invited_by: User) -> Membership:
    """Invite `email` into `org`: a new address gets an account to set up, an existing user is only added.

    Either way the invitee is emailed once the invitation is committed."""
    email = email_normalise(email)
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = _invitee_create(email)
    elif not user.is_active:
        raise ValidationError(
            {"email": f"{user.email} has a linktrack account that is switched off; ask support to switch it on."}
        )
    if Membership.objects.filter(org=org, user=user).exists():
        raise _already_in(org=org, user=user)
    membership = Membership(org=org, user=user, invited_by=invited_by, role=Membership.Role.CAMPAIGN_MANAGER)
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError:  # invited by a colleague at the same moment
        raise _already_in(org=org, user=user) from None
    _invitation_email(membership=membership, sender=invited_by)
    return membership


def _invitee_create(email: str) -> User:
    """A new account that cannot sign in until its owner chooses a password through the invitation link."""
    user = User(email=email, is_active=True)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # the address was invited into another org at the same moment
        return User.objects.get(email__iexact=email)
    return user


def _already_in(*, org: Org, user: User) -> ValidationError:
    if invitation_is_pending(user):
        already = f"{user.email} is already invited to {org.name} and has not joined yet: send the invitation again."
        return ValidationError({"email": already})
    return ValidationError({"email": f"{user.email} is already a member of {org.name}."})


@transaction.atomic
def invitation_resend(*, org: Org, user: User, resent_by: User) -> Membership:
    """Email a pending invitation again, with a new link; the links sent before stop working."""
    membership = _membership_locked(org=org, user=user)
    if not invitation_is_pending(membership.user):
        raise ValidationError(f"{membership.user.email} has already joined {org.name}: there is no invitation to send.")
    # The token is computed from the password hash among others: a fresh unusable password (random) makes every
    # link sent before invalid, so only the newest email works.
    membership.user.set_unusable_password()
    membership.user.save(update_fields=["password"])
    _invitation_email(membership=membership, sender=resent_by)
    return membership


@transaction.atomic
def invitation_cancel(*, org: Org, user: User, cancelled_by: User) -> bool:
    """Withdraw a pending invitation. The account made for it is deleted when it is in no other org and never
    signed in; returns whether it was."""
    membership = _membership_locked(org=org, user=user)
    invitee = membership.user
    if not invitation_is_pending(invitee):
        raise ValidationError(f"{invitee.email} has already joined {org.name}: remove them from the members instead.")
    membership.delete()
    if invitee.is_staff or invitee.last_login is not None or invitee.memberships.exists():
        return False
    invitee.delete()  # its link now names no account, so it shows "this link does not work"
    logger.info("Invitation of %s to %s cancelled by %s; the unused account is deleted", invitee, org, cancelled_by)
    return True


@transaction.atomic
def member_remove(*, org: Org, user: User, removed_by: User) -> None:
    """Take `user` out of `org`. The org's last member stays unless support staff remove them; nobody removes
    themselves when they are the last."""
    membership = _membership_locked(org=org, user=user)
    member = membership.user
    if invitation_is_pending(member):
        raise ValidationError(f"{member.email} has not joined {org.name} yet: cancel the invitation instead.")
    others = org.memberships.exclude(pk=membership.pk).select_related("user")
    others_joined = sum(1 for other in others if not invitation_is_pending(other.user))
    refusal = removal_refusal(org=org, member=member, removed_by=removed_by, others_joined=others_joined)
    if refusal:
        raise ValidationError(refusal)
    membership.delete()
    logger.info("%s removed from %s by %s", member, org, removed_by)


def removal_refusal(*, org: Org, member: User, removed_by: User, others_joined: int) -> str:
    """Why `removed_by` may not remove `member` from `org`, in words ("" when they may). `others_joined` counts the
    org's other members who have joined (pending invitations do not run campaigns)."""
    if others_joined:
        return ""
    if member.pk == removed_by.pk:
        return (
            f"You are the last member of {org.name}: invite a colleague and let them join before you leave, "
            "so that someone can still run its campaigns."
        )
    if not removed_by.is_staff:
        return f"{member.email} is the last member of {org.name}; only support staff can remove the last member."
    return ""


def _membership_locked(*, org: Org, user: User) -> Membership:
    """The membership, with the org's row locked first: two changes to one team (two managers removing each other,
    say) are made one after the other, so the last-member rule holds (PostgreSQL; SQLite writes one at a time)."""
    Org.objects.select_for_update().filter(pk=org.pk).first()
    try:
        return Membership.objects.select_related("user").get(org=org, user=user)
    except Membership.DoesNotExist:
        raise ValidationError(f"{user.email} is not in {org.name} (any more).") from None


def invitation_link(user: User) -> str:
    """The one-time link on which `user` chooses a password and is signed in.

    default_token_generator hashes the user's password hash and last sign-in into the token: the link stops working
    as soon as a password is set (or the user signs in), and after PASSWORD_RESET_TIMEOUT. Nothing is stored."""
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return public_url(reverse("campaigns:team-join", kwargs={"uidb64": uidb64, "token": token}))


def _invitation_email(*, membership: Membership, sender: User) -> None:
    """Email the invitee after commit: a link to choose a password when they have none, else the sign-in page."""
    invitee, org = membership.user, membership.org
    needs_password = not invitee.has_usable_password()
    context = {
        "email": invitee.email,
        "org_name": org.name,
        "inviter": "linktrack support" if sender.is_staff else sender.email,
        "set_password_link": invitation_link(invitee) if needs_password else "",
        "link_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        "sign_in_link": public_url(reverse("login")),
    }
    subject = " ".join(render_to_string(INVITE_SUBJECT, context).split())
    body = render_to_string(INVITE_BODY, context)
    transaction.on_commit(partial(_send, subject=subject, body=body, to=invitee.email))


def _send(*, subject: str, body: str, to: str) -> None:
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    except OSError:  # smtplib's errors included: the invitation stands and can be sent again from the Team page
        logger.exception("The invitation email to %s could not be sent", to)
