"""Team management: inviting colleagues by email, pending invitations (send again, cancel), removing members."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.accounts import team
from campaigns.models import Membership, User
from tests.factories import PASSWORD, CampaignFactory, MembershipFactory, UserFactory

NEW_PASSWORD = "a-brand-new-password-7"
PUBLIC = "https://app.example.test"


@pytest.fixture(autouse=True)
def _public_address_and_fast_hashing(settings):
    settings.PUBLIC_BASE_URL = PUBLIC
    # choosing a password hashes it; the production hasher would make these tests slow, not safer
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def colleague(org, manager) -> User:
    """A member of the manager's org who has joined (has a password)."""
    user = UserFactory(email="colleague@acme.test", password=PASSWORD)
    MembershipFactory(user=user, org=org, invited_by=manager)
    return user


@pytest.fixture
def invite(as_manager, org, django_capture_on_commit_callbacks):
    """Invite an address as the manager, with the email sent as after a commit; returns the response."""

    def _invite(email: str, *, client=as_manager, into=org):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("campaigns:team-invite", args=[into.pk]), {"email": email})

    return _invite


def _team_url(org) -> str:
    return f"{reverse('campaigns:team')}?org={org.pk}"


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


# --- The Team page -------------------------------------------------------------------------------------------


def test_team_page_lists_members_and_pending_invitations_with_who_invited_them(as_manager, invite, colleague, org):
    invite("priya@acme.test")

    page = as_manager.get(_team_url(org)).content.decode()

    members = page.split('id="members"')[1].split("</table>")[0]
    invitations = page.split('id="invitations"')[1].split("</table>")[0]
    assert "colleague@acme.test" in members and "manager@acme.test (you)" in members
    assert "Campaign manager" in members and "never" in members  # the colleague never signed in
    assert "priya@acme.test" in invitations and "priya@acme.test" not in members
    assert "manager@acme.test" in invitations  # invited by
    assert "Send again" in invitations and "Cancel invitation" in invitations
    assert 'id="invite"' in page


def test_a_manager_of_several_orgs_chooses_the_team(client, manager, org, other_org, outsider):
    MembershipFactory(user=manager, org=other_org)
    client.force_login(manager)

    first = client.get(reverse("campaigns:team")).content.decode()
    chosen = client.get(_team_url(other_org)).content.decode()

    assert 'id="team-org"' in first and "Team of Acme Retail" in first
    assert "Team of Other Brand" in chosen and "manager@other.test" in chosen


def test_support_manages_the_team_of_any_org(client, support, org, manager, django_capture_on_commit_callbacks):
    client.force_login(support)

    page = client.get(_team_url(org))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("campaigns:team-invite", args=[org.pk]), {"email": "priya@acme.test"})

    assert page.status_code == 200 and "manager@acme.test" in page.content.decode()
    assert Membership.objects.get(user__email="priya@acme.test").invited_by == support
    assert mail.outbox[0].subject == "linktrack support invited you to Acme Retail on linktrack"


def test_team_page_queries_do_not_grow_with_the_team(as_manager, org, manager, django_assert_num_queries):
    with CaptureQueriesContext(connection) as small_team:
        assert as_manager.get(_team_url(org)).status_code == 200
    for n in range(10):
        joined = UserFactory(email=f"member{n}@acme.test", password=PASSWORD)
        invited = UserFactory(email=f"invited{n}@acme.test", password=None)
        MembershipFactory(user=joined, org=org, invited_by=manager)
        MembershipFactory(user=invited, org=org, invited_by=joined)

    with django_assert_num_queries(len(small_team)):
        page = as_manager.get(_team_url(org))

    assert page.content.decode().count("data-invitation=") == 10


# --- Sending again and cancelling ------------------------------------------------------------------------------


def _invitation_of(email: str, org) -> Membership:
    return Membership.objects.get(org=org, user__email=email)


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


# --- Removing members ------------------------------------------------------------------------------------------


def test_a_removed_member_no_longer_sees_the_orgs_campaigns(as_manager, colleague, org, template):
    campaign = CampaignFactory(org=org, name="Diwali sale", template=template)
    colleague_browser = Client()
    colleague_browser.force_login(colleague)
    assert colleague_browser.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 200
    membership = _invitation_of("colleague@acme.test", org)
    remove_url = reverse("campaigns:team-member-remove", args=[org.pk, membership.pk])

    # when the manager asks to remove the colleague, is asked to confirm, and confirms
    confirm = as_manager.get(remove_url).content.decode()
    assert "Remove colleague@acme.test from Acme Retail?" in confirm
    assert Membership.objects.filter(pk=membership.pk).exists()  # asking removes nothing
    response = as_manager.post(remove_url, follow=True)

    # then the colleague, still signed in, no longer sees the org's campaigns
    assert "colleague@acme.test is removed from Acme Retail" in response.content.decode()
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert colleague_browser.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 404
    assert "Diwali sale" not in colleague_browser.get(reverse("campaigns:list")).content.decode()
    assert colleague_browser.get(_team_url(org)).status_code == 404


def test_a_manager_cannot_remove_the_last_member(as_manager, manager, org):
    membership = _invitation_of("manager@acme.test", org)

    page = as_manager.get(_team_url(org)).content.decode()
    response = as_manager.post(reverse("campaigns:team-member-remove", args=[org.pk, membership.pk]), follow=True)

    assert "data-cannot-remove" in page
    assert reverse("campaigns:team-member-remove", args=[org.pk, membership.pk]) not in page
    assert "You are the last member of Acme Retail" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_pending_invitations_do_not_count_as_members_left(as_manager, invite, org):
    invite("priya@acme.test")
    membership = _invitation_of("manager@acme.test", org)

    response = as_manager.post(reverse("campaigns:team-member-remove", args=[org.pk, membership.pk]), follow=True)

    assert "You are the last member of Acme Retail" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_support_can_remove_the_last_member(client, support, manager, org):
    client.force_login(support)
    membership = _invitation_of("manager@acme.test", org)

    page = client.get(_team_url(org)).content.decode()
    client.post(reverse("campaigns:team-member-remove", args=[org.pk, membership.pk]))

    assert reverse("campaigns:team-member-remove", args=[org.pk, membership.pk]) in page
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_nobody_removes_themselves_when_they_are_the_last_member(org, support):
    MembershipFactory(user=support, org=org)

    with pytest.raises(ValidationError, match="You are the last member of Acme Retail"):
        team.member_remove(org=org, user=support, removed_by=support)

    assert Membership.objects.filter(user=support, org=org).exists()


def test_a_manager_leaving_a_team_with_others_lands_on_the_campaigns(as_manager, colleague, org):
    membership = _invitation_of("manager@acme.test", org)

    response = as_manager.post(reverse("campaigns:team-member-remove", args=[org.pk, membership.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("campaigns:list")
    assert "You have left Acme Retail." in response.content.decode()
    assert as_manager.get(_team_url(org)).status_code == 404


# --- Who may --------------------------------------------------------------------------------------------------


def _routes(org, membership) -> dict[str, str]:
    return {
        "invite": reverse("campaigns:team-invite", args=[org.pk]),
        "resend": reverse("campaigns:team-invitation-resend", args=[org.pk, membership.pk]),
        "cancel": reverse("campaigns:team-invitation-cancel", args=[org.pk, membership.pk]),
        "remove": reverse("campaigns:team-member-remove", args=[org.pk, membership.pk]),
    }


def test_another_orgs_team_and_its_actions_are_not_found(client, outsider, org, manager, other_org):
    pending = MembershipFactory(org=org, user=UserFactory(email="priya@acme.test", password=None))
    client.force_login(outsider)

    assert client.get(_team_url(org)).status_code == 404
    assert client.get(reverse("campaigns:team")).content.decode().count("manager@acme.test") == 0
    for name, url in {
        **_routes(org, pending),
        "remove joined": _routes(org, manager.memberships.get())["remove"],
    }.items():
        assert client.post(url, {"email": "spy@other.test"}).status_code == 404, name
    assert client.get(_routes(org, pending)["remove"]).status_code == 404
    # a membership of another org named under one's own org is not found either
    assert client.post(_routes(other_org, pending)["cancel"]).status_code == 404
    assert Membership.objects.filter(org=org).count() == 2 and mail.outbox == []
    assert not User.objects.filter(email="spy@other.test").exists()


def test_an_anonymous_visitor_is_sent_to_sign_in(client, org, manager):
    membership = manager.memberships.get()
    for url in (reverse("campaigns:team"), *_routes(org, membership).values()):
        response = client.post(url) if url != reverse("campaigns:team") else client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_team_actions_need_the_forms_csrf_token(manager, colleague, org, django_capture_on_commit_callbacks):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(manager)
    pending = MembershipFactory(org=org, user=UserFactory(email="priya@acme.test", password=None))

    # without the token every action is refused
    for name, url in _routes(org, pending).items():
        assert browser.post(url, {"email": "new@acme.test"}).status_code == 403, name
    assert browser.post(_routes(org, colleague.memberships.get())["remove"]).status_code == 403
    assert Membership.objects.filter(org=org).count() == 3 and mail.outbox == []

    # with the token of the page the invitation goes out
    browser.get(_team_url(org))
    token = browser.cookies["csrftoken"].value
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            reverse("campaigns:team-invite", args=[org.pk]), {"email": "new@acme.test", "csrfmiddlewaretoken": token}
        )
    assert response.status_code == 302 and mail.outbox[0].to == ["new@acme.test"]


def test_the_header_links_to_the_team_page(as_manager):
    page = as_manager.get(reverse("campaigns:list")).content.decode()

    assert f'<a href="{reverse("campaigns:team")}">Team</a>' in page


def test_a_member_added_in_the_admin_records_who_added_them(client, org, manager):
    admin_user = User.objects.create_superuser("admin@linktrack.test", PASSWORD)
    newcomer = UserFactory(email="newcomer@acme.test", password=PASSWORD)
    membership = manager.memberships.get()
    client.force_login(admin_user)
    prefix = "memberships"

    response = client.post(
        reverse("admin:campaigns_org_change", args=[org.pk]),
        {
            "name": org.name,
            "timezone": org.timezone,
            "short_domain": "",
            f"{prefix}-TOTAL_FORMS": "2",
            f"{prefix}-INITIAL_FORMS": "1",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
            f"{prefix}-0-id": membership.pk,
            f"{prefix}-0-org": org.pk,
            f"{prefix}-0-user": manager.pk,
            f"{prefix}-0-role": Membership.Role.CAMPAIGN_MANAGER,
            f"{prefix}-1-org": org.pk,
            f"{prefix}-1-user": newcomer.pk,
            f"{prefix}-1-role": Membership.Role.CAMPAIGN_MANAGER,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Membership.objects.get(org=org, user=newcomer).invited_by == admin_user
    assert Membership.objects.get(pk=membership.pk).invited_by is None  # an existing membership keeps its record
    page = client.get(reverse("admin:campaigns_org_change", args=[org.pk])).content.decode()
    assert "admin@linktrack.test" in page and "Invited by" in page
