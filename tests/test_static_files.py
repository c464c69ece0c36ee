"""In production (DEBUG off, gunicorn, no other web server) the app serves its collected static files itself, so the
admin that support staff use has its styles."""

import pytest
from django.core.management import call_command
from django.test import Client, override_settings


@pytest.mark.django_db
def test_collected_static_files_are_served_with_debug_off(tmp_path, settings):
    settings.DEBUG = False
    with override_settings(STATIC_ROOT=tmp_path):
        call_command("collectstatic", "--noinput", verbosity=0)
        response = Client().get("/static/admin/css/base.css")
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(b"/*")
        assert "max-age" in response["Cache-Control"]
        assert Client().get("/static/admin/css/missing.css").status_code == 404
