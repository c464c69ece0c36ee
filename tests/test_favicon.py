"""Every page names its icon, an SVG served with the static files, and /favicon.ico (asked for by pages that name
none, such as the admin's) leads to it instead of answering 404."""

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

ICON = "linktrack/favicon.svg"


@pytest.mark.django_db
def test_pages_link_the_icon_and_favicon_ico_leads_to_it(client, manager, tmp_path, settings):
    client.force_login(manager)
    page = client.get(reverse("campaigns:list")).content.decode()
    assert f'<link rel="icon" href="/static/{ICON}" type="image/svg+xml">' in page

    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == f"/static/{ICON}"

    # and the icon is served (DEBUG off, collected static files, as in production)
    assert finders.find(ICON)
    settings.DEBUG = False
    with override_settings(STATIC_ROOT=tmp_path):
        call_command("collectstatic", "--noinput", verbosity=0)
        icon = Client().get(f"/static/{ICON}")
        assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
        assert b"<svg" in b"".join(icon.streaming_content)
