"""Support staff switch an org's SMS link tracking; campaign managers cannot."""

import pytest
from django.urls import reverse

from campaigns.models import Org, Template
from tests.factories import CampaignFactory


@pytest.fixture
def untracked_org(org) -> Org:
    org.sms_link_tracking = False
    org.save(update_fields=["sms_link_tracking"])
    return org


@pytest.fixture
def fixed_link_template(untracked_org, sender) -> Template:
    return Template.objects.create(
        org=untracked_org, name="Sale", sender=sender, body="Sale! Visit www.acme.in/sale?x=1 now, {#var#}"
    )


def test_support_sees_every_org_with_its_tracking_state(client, support, org, other_org, untracked_org):
    client.force_login(support)
    page = client.get(reverse("support:orgs")).content.decode()
    assert f'data-tracking="{untracked_org.pk}">Off<' in page and f'data-tracking="{other_org.pk}">On<' in page


def test_support_switches_tracking_on_and_who_and_when_is_recorded(client, support, untracked_org):
    # given an org without templates that have fixed links
    client.force_login(support)
    # when support switches tracking on
    response = client.post(reverse("support:org-link-tracking", args=[untracked_org.pk]), {"enabled": "on"})
    # then it is on, with who and when recorded, and the page says so
    assert response.status_code == 302 and response["Location"] == reverse("support:org", args=[untracked_org.pk])
    untracked_org.refresh_from_db()
    assert untracked_org.sms_link_tracking is True
    assert untracked_org.link_tracking_changed_by == support and untracked_org.link_tracking_changed_at is not None
    page = client.get(response["Location"]).content.decode()
    assert 'id="tracking-state">on<' in page and "support@linktrack.test" in page


def test_templates_with_fixed_links_are_listed_with_the_exact_link_and_their_campaigns(
    client, support, fixed_link_template, sender
):
    ok = Template.objects.create(org=fixed_link_template.org, name="Fine", sender=sender, body="Go {#var#}")
    CampaignFactory(org=ok.org, name="Weekly", template=fixed_link_template, kind="recurring", schedule="0 10 * * 1")
    client.force_login(support)
    page = client.get(reverse("support:org", args=[fixed_link_template.org_id])).content.decode()
    assert "<code>www.acme.in/sale?x=1</code>" in page
    assert "Weekly (Recurring, Draft)" in page
    assert ">Fine<" not in page
    assert "Move each link into a <code>{#var#}</code> variable" in page


def test_switching_on_with_affected_templates_needs_confirmation(client, support, fixed_link_template):
    org = fixed_link_template.org
    client.force_login(support)
    # when support switches on without ticking the box
    response = client.post(reverse("support:org-link-tracking", args=[org.pk]), {"enabled": "on"})
    # then nothing changes and the page explains why, next to the box
    assert response.status_code == 400
    assert "1 template(s) of Acme Retail have links outside a variable" in response.content.decode()
    org.refresh_from_db()
    assert org.sms_link_tracking is False and org.link_tracking_changed_by is None
    # when they confirm
    response = client.post(reverse("support:org-link-tracking", args=[org.pk]), {"enabled": "on", "confirm": "on"})
    # then it is switched on
    org.refresh_from_db()
    assert response.status_code == 302 and org.sms_link_tracking is True


def test_switching_off_needs_no_confirmation(client, support, org, sender):
    Template.objects.create(org=org, name="Sale", sender=sender, body="Visit www.acme.in {#var#}")
    client.force_login(support)
    client.post(reverse("support:org-link-tracking", args=[org.pk]), {"enabled": "off"})
    org.refresh_from_db()
    assert org.sms_link_tracking is False and org.link_tracking_changed_by_id == support.pk


def test_campaign_manager_cannot_see_or_switch_tracking(client, manager, untracked_org):
    client.force_login(manager)
    assert client.get(reverse("support:orgs")).status_code == 403
    assert client.get(reverse("support:org", args=[untracked_org.pk])).status_code == 403
    response = client.post(reverse("support:org-link-tracking", args=[untracked_org.pk]), {"enabled": "on"})
    assert response.status_code == 403
    untracked_org.refresh_from_db()
    assert untracked_org.sms_link_tracking is False


def test_anonymous_visitor_is_sent_to_login(client, org):
    for url in (reverse("support:orgs"), reverse("support:org", args=[org.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = client.post(reverse("support:org-link-tracking", args=[org.pk]), {"enabled": "off"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.sms_link_tracking is True


def test_switch_form_is_csrf_protected(support, untracked_org):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(support)
    response = client.post(reverse("support:org-link-tracking", args=[untracked_org.pk]), {"enabled": "on"})
    assert response.status_code == 403
    untracked_org.refresh_from_db()
    assert untracked_org.sms_link_tracking is False


def test_unknown_org_is_not_found(client, support):
    client.force_login(support)
    assert client.get(reverse("support:org", args=[999_999])).status_code == 404
