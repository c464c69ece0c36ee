"""Link check on the preview page: each link with its result, a summary at the top, checking again on request."""

from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign, Template
from campaigns.sending import link_check
from campaigns.sending.link_check import Verdict, link_checks_summary
from tests.campaigns.sending.link_check_site import _link_campaign
from tests.factories import CampaignFactory, make_customers


def _preview(client: Client, campaign: Campaign) -> str:
    response = client.get(reverse("campaigns:preview", args=[campaign.pk]))
    assert response.status_code == 200
    return response.content.decode()


# --- The summary ---------------------------------------------------------------------------------------------------


def test_the_summary_counts_what_does_not_work():
    def check(verdict):
        return link_check.LinkCheck(url="https://x.in", verdict=verdict, words="")

    assert link_checks_summary([check(Verdict.WORKS), check(Verdict.WORKS)]) == ""
    assert (
        link_checks_summary([check(Verdict.BROKEN), check(Verdict.WORKS)])
        == "1 of 2 links does not work: check it before launching."
    )
    assert (
        link_checks_summary([check(Verdict.BROKEN), check(Verdict.BROKEN), check(Verdict.CHECK)])
        == "2 of 3 links do not work: check them before launching. 1 more needs a look."
    )
    assert link_checks_summary([check(Verdict.NOT_CHECKED)]) == "1 of 1 link needs a look before launching."


# --- The preview page ----------------------------------------------------------------------------------------------


def test_the_preview_lists_each_link_with_its_result_and_a_summary_at_the_top(client, manager, org, sender, site):
    site.pages["/gone"] = ("status", 404)
    campaign = _link_campaign(org, sender, f"{site.base}/sale", f"{site.base}/gone")
    client.force_login(manager)

    page = _preview(client, campaign)

    assert '<div class="card" id="links">' in page
    assert "1 of 2 links does not work: check it before launching." in page
    assert page.index('id="links-summary"') < page.index('id="trai-checks"')  # at the top
    assert f"<code>{site.base}/sale</code>" in page and f"<code>{site.base}/gone</code>" in page
    assert "<td><strong>Works</strong></td>" in page and "<td><strong>Does not work</strong></td>" in page
    assert "answers 404 Not Found: recipients would land on an error page" in page
    assert "checked just now" in page


def test_a_preview_whose_links_all_work_has_no_summary(client, manager, org, sender, site):
    campaign = _link_campaign(org, sender, f"{site.base}/sale")
    client.force_login(manager)

    page = _preview(client, campaign)

    assert 'id="links"' in page and 'id="links-summary"' not in page


def test_reloading_the_preview_fetches_nothing_and_check_again_does(client, manager, org, sender, site):
    campaign = _link_campaign(org, sender, f"{site.base}/sale")
    client.force_login(manager)
    _preview(client, campaign)
    assert site.paths == ["/sale"]

    # when the page is loaded again, the result comes from the cache
    _preview(client, campaign)
    assert site.paths == ["/sale"]

    # when the manager presses Check again, the link is fetched again and the page shows the new answer
    site.pages["/sale"] = ("status", 503)
    response = client.post(reverse("campaigns:preview-check-links", args=[campaign.pk]), follow=True)
    assert site.paths == ["/sale", "/sale"]
    assert response.redirect_chain[-1][0] == reverse("campaigns:preview", args=[campaign.pk]) + "#links"
    page = response.content.decode()
    assert "Checked 1 link again." in page and "answers 503 Service Unavailable" in page


def test_check_again_keeps_the_sample_customer(client, manager, org, sender, site):
    customers = make_customers(org, 3)
    campaign = _link_campaign(org, sender, f"{site.base}/sale")
    client.force_login(manager)

    response = client.post(reverse("campaigns:preview-check-links", args=[campaign.pk]), {"customer": customers[1].pk})

    assert response.status_code == 302
    assert response["Location"].endswith(f"?customer={customers[1].pk}#links")


def test_check_again_without_a_sample_customer_checks_the_first_customers_links(client, manager, org, sender, site):
    first, second = make_customers(org, 2)
    for customer in (first, second):
        customer.attributes = {"order_url": f"{site.base}/orders/{customer.pk}"}
        customer.save(update_fields=["attributes"])
    template = Template.objects.create(org=org, name="Order", sender=sender, body="Track: {#var#}")
    campaign = CampaignFactory(
        org=org, name="Orders", template=template, slot_values=[{"source": "field", "value": "order_url"}]
    )
    client.force_login(manager)

    client.post(reverse("campaigns:preview-check-links", args=[campaign.pk]))
    page = _preview(client, campaign)

    assert site.paths == [f"/orders/{first.pk}"]  # checked once, by Check again; the page read it from the cache
    assert "from a customer field: this sample customer's link" in page


def test_check_again_needs_the_csrf_token(manager, org, sender, site):
    campaign = _link_campaign(org, sender, f"{site.base}/sale")
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    response = client.post(reverse("campaigns:preview-check-links", args=[campaign.pk]))

    assert response.status_code == 403 and site.requests == []
    # and the page's own form carries the token
    page = client.get(reverse("campaigns:preview", args=[campaign.pk])).content.decode()
    form = page[page.index('action="' + reverse("campaigns:preview-check-links", args=[campaign.pk])) :]
    assert 'name="csrfmiddlewaretoken"' in form[: form.index("</form>")]


def test_check_again_is_a_post(client, manager, org, sender, site):
    campaign = _link_campaign(org, sender, f"{site.base}/sale")
    client.force_login(manager)
    assert client.get(reverse("campaigns:preview-check-links", args=[campaign.pk])).status_code == 405
    assert site.requests == []


def test_another_orgs_campaign_is_not_found_and_its_links_are_not_fetched(client, outsider, org, sender, site):
    campaign = _link_campaign(org, sender, f"{site.base}/sale")
    client.force_login(outsider)

    assert client.get(reverse("campaigns:preview", args=[campaign.pk])).status_code == 404
    assert client.post(reverse("campaigns:preview-check-links", args=[campaign.pk])).status_code == 404
    assert site.requests == []


def test_a_campaign_without_links_shows_no_links_section(client, manager, template, site):
    campaign = CampaignFactory(
        org=template.org,
        name="No links",
        template=template,
        slot_values=[{"source": "text", "value": "Asha"}, {"source": "text", "value": "soon"}],
    )
    client.force_login(manager)

    page = _preview(client, campaign)

    assert 'id="links"' not in page and "Check again" not in page
    assert site.requests == []
