"""The Team page: members and pending invitations, and removing members."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.accounts import team
from campaigns.models import Membership
from tests.campaigns.accounts.helpers import _invitation_of, _team_url
from tests.factories import PASSWORD, CampaignFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.usefixtures("_public_address_and_fast_hashing")


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
