"""Who may manage a team: another org's team is not found, visitors sign in first, forms need their CSRF token;
members added in the admin."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from campaigns.models import Membership, User
from tests.campaigns.accounts.helpers import _team_url
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.helpers import admin_sign_in

pytestmark = pytest.mark.usefixtures("_public_address_and_fast_hashing")


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
    admin_sign_in(client, admin_user)
    prefix = "memberships"

    response = client.post(
        reverse("admin:campaigns_org_change", args=[org.pk]),
        {
            "name": org.name,
            "timezone": org.timezone,
            "short_domain": "",
            "attribution_window_days": org.attribution_window_days,
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
