"""Team invitations: inviting colleagues by email, joining through the link, sending it again, cancelling it."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from campaigns.accounts import team
from campaigns.models import Membership, User
from tests.campaigns.accounts.helpers import PUBLIC, _invitation_of, _team_url
from tests.factories import PASSWORD, CampaignFactory

pytestmark = pytest.mark.usefixtures("_public_address_and_fast_hashing")


NEW_PASSWORD = "a-brand-new-password-7"


def _link(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def _join(client, link: str, password: str = NEW_PASSWORD):
    """Open an invitation link and choose a password; the final response, redirects followed."""
    form_page = client.get(urlsplit(link).path, follow=True)
    assert "Join linktrack" in form_page.content.decode()
    return client.post(
        form_page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}, follow=True
    )


def _signed_in_as(client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


# --- Inviting --------------------------------------------------------------------------------------------------


def test_invited_address_joins_through_a_link_on_the_public_address_and_sees_the_orgs_campaigns(
    invite, manager, org, template, settings
):
    CampaignFactory(org=org, name="Diwali sale", template=template)

    # when the manager invites a new address, written as people type them
    response = invite("  Priya@Acme.TEST ")

    # then an account that cannot sign in yet and a membership saying who invited her exist
    assert response.status_code == 302 and response["Location"] == _team_url(org)
    priya = User.objects.get(email="priya@acme.test")
    assert priya.is_active and not priya.has_usable_password()
    membership = Membership.objects.get(user=priya, org=org)
    assert membership.invited_by == manager and membership.role == Membership.Role.CAMPAIGN_MANAGER
    # and one plain-text email from DEFAULT_FROM_EMAIL carries a one-time link on the public address
    [message] = mail.outbox
    assert message.to == ["priya@acme.test"] and message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.subject == "manager@acme.test invited you to Acme Retail on linktrack" and not message.alternatives
    link = _link(message)
    assert link.startswith(f"{PUBLIC}/campaigns/team/join/")
    assert "works once, for 3 days" in message.body

    # when she follows it and chooses a password
    visitor = Client()
    done = _join(visitor, link)

    # then she is signed in and lands on the campaigns of the org
    assert done.redirect_chain[-1][0] == reverse("campaigns:list")
    page = done.content.decode()
    assert "Diwali sale" in page and "your password is set and you are signed in as priya@acme.test" in page
    assert _signed_in_as(visitor) == priya
    priya.refresh_from_db()
    assert priya.check_password(NEW_PASSWORD) and not team.invitation_is_pending(priya)
    # and the password signs her in from now on
    assert Client().post(reverse("login"), {"username": "priya@acme.test", "password": NEW_PASSWORD}).status_code == 302


def test_an_invitation_link_works_once(invite):
    invite("priya@acme.test")
    link = _link(mail.outbox[0])
    _join(Client(), link)

    again = Client().get(urlsplit(link).path, follow=True)

    page = again.content.decode()
    assert again.status_code == 200
    assert "This invitation link does not work" in page and "new_password1" not in page
    assert _signed_in_as(again.client) is None


def test_a_forged_invitation_link_shows_a_page_in_words(client, invite):
    invite("priya@acme.test")
    path = urlsplit(_link(mail.outbox[0])).path
    forged = path.rstrip("/").rsplit("/", 1)[0] + "/abc-0123456789abcdef/"

    response = client.get(forged)

    assert response.status_code == 200
    assert "This invitation link does not work" in response.content.decode()


def test_joining_asks_for_a_password_the_validators_accept(invite):
    invite("priya@acme.test")

    response = _join(Client(), _link(mail.outbox[0]), password="short")

    assert "This password is too short" in response.content.decode()
    assert not User.objects.get(email="priya@acme.test").has_usable_password()


def test_an_existing_user_is_added_and_told_by_email_without_a_password_link(invite, org, outsider, template, settings):
    CampaignFactory(org=org, name="Diwali sale", template=template)

    response = invite("Manager@Other.test")

    # then the existing account is added as it is (its password unchanged), no second account is made
    assert response.status_code == 302
    assert Membership.objects.filter(org=org, user=outsider).exists()
    assert User.objects.filter(email__iexact="manager@other.test").count() == 1
    outsider.refresh_from_db()
    assert outsider.check_password(PASSWORD)
    # and the email says so, with the sign-in page and no link that sets a password
    [message] = mail.outbox
    assert message.subject == "You now have access to Acme Retail on linktrack"
    assert "/team/join/" not in message.body and f"{PUBLIC}/accounts/login/" in message.body
    assert "nothing to set up" in message.body
    # and they see the org's campaigns with their own password
    client = Client()
    client.post(reverse("login"), {"username": "manager@other.test", "password": PASSWORD})
    assert "Diwali sale" in client.get(reverse("campaigns:list")).content.decode()


def test_the_invitation_email_is_sent_only_once_the_invitation_is_committed(
    as_manager, org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        as_manager.post(reverse("campaigns:team-invite", args=[org.pk]), {"email": "priya@acme.test"})

        assert mail.outbox == []
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("not-an-address", "“not-an-address” is not an email address: write it as name@company.in."),
        ("", "Enter the email address of the colleague to invite."),
        ("priya@", "“priya@” is not an email address"),
    ],
)
def test_an_invalid_address_is_refused_in_words(invite, org, email, error):
    response = invite(email)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert Membership.objects.filter(org=org).count() == 1 and mail.outbox == []


def test_inviting_a_member_again_is_refused_in_words(invite, org):
    response = invite("MANAGER@acme.test")

    assert response.status_code == 400
    assert "manager@acme.test is already a member of Acme Retail." in response.content.decode()
    assert mail.outbox == []


def test_inviting_a_pending_invitee_again_points_to_sending_it_again(invite):
    invite("priya@acme.test")

    response = invite("priya@acme.test")

    assert response.status_code == 400
    assert "priya@acme.test is already invited to Acme Retail and has not joined yet" in response.content.decode()
    assert len(mail.outbox) == 1


def test_sending_an_invitation_again_emails_a_new_link_and_the_old_one_stops_working(
    as_manager, invite, org, django_capture_on_commit_callbacks
):
    invite("priya@acme.test")
    first_link = _link(mail.outbox[0])
    membership = _invitation_of("priya@acme.test", org)

    with django_capture_on_commit_callbacks(execute=True):
        response = as_manager.post(reverse("campaigns:team-invitation-resend", args=[org.pk, membership.pk]))

    assert response.status_code == 302 and response["Location"] == _team_url(org)
    assert len(mail.outbox) == 2 and mail.outbox[1].to == ["priya@acme.test"]
    second_link = _link(mail.outbox[1])
    assert second_link != first_link
    assert "This invitation link does not work" in Client().get(urlsplit(first_link).path).content.decode()
    assert _join(Client(), second_link).redirect_chain[-1][0] == reverse("campaigns:list")


def test_cancelling_an_invitation_deletes_the_unused_account_and_its_link(as_manager, invite, org):
    invite("priya@acme.test")
    link = _link(mail.outbox[0])
    membership = _invitation_of("priya@acme.test", org)

    response = as_manager.post(reverse("campaigns:team-invitation-cancel", args=[org.pk, membership.pk]))

    assert response.status_code == 302
    assert not User.objects.filter(email="priya@acme.test").exists()
    assert "This invitation link does not work" in Client().get(urlsplit(link).path).content.decode()
    page = as_manager.get(_team_url(org)).content.decode()
    assert "The invitation of priya@acme.test to Acme Retail is cancelled. Its link no longer works." in page
    assert "data-invitation=" not in page


def test_cancelling_keeps_an_account_invited_into_another_org(as_manager, invite, org, other_org, support):
    invite("priya@acme.test")
    team.member_invite(org=other_org, email="priya@acme.test", invited_by=support)
    membership = _invitation_of("priya@acme.test", org)

    as_manager.post(reverse("campaigns:team-invitation-cancel", args=[org.pk, membership.pk]))

    priya = User.objects.get(email="priya@acme.test")
    assert list(priya.memberships.values_list("org", flat=True)) == [other_org.pk]


def test_a_joined_member_has_no_invitation_to_cancel_or_send_again(as_manager, colleague, org):
    membership = _invitation_of("colleague@acme.test", org)

    cancelled = as_manager.post(reverse("campaigns:team-invitation-cancel", args=[org.pk, membership.pk]), follow=True)
    resent = as_manager.post(reverse("campaigns:team-invitation-resend", args=[org.pk, membership.pk]), follow=True)

    assert "colleague@acme.test has already joined Acme Retail: remove them" in cancelled.content.decode()
    assert "there is no invitation to send" in resent.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists() and mail.outbox == []
