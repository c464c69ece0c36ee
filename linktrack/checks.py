"""System checks of the settings a deployment must get right (run by manage.py check and at start)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from linktrack.redirect.clicks import click_stream_at_risk


@register(Tags.security, deploy=False)
def placeholder_secrets_check(app_configs, **kwargs):
    """Refuse to run in production with the secrets that ship in the repository."""
    if settings.DEBUG:
        return []
    errors = []
    if settings.SECRET_KEY == settings.PLACEHOLDER_SECRET_KEY:
        errors.append(
            Error(
                "SECRET_KEY is the development placeholder while DEBUG is off.",
                hint="Set SECRET_KEY in the environment to a long random value.",
                id="linktrack.E001",
            )
        )
    if settings.HASHIDS_SALT == settings.PLACEHOLDER_HASHIDS_SALT:
        errors.append(
            Error(
                "HASHIDS_SALT is the development placeholder while DEBUG is off: short codes could be forged.",
                hint="Set HASHIDS_SALT in the environment to a long random value.",
                id="linktrack.E002",
            )
        )
    return errors


@register(Tags.security, deploy=False)
def public_base_url_check(app_configs, **kwargs):
    """Warn when production emails would carry unsubscribe links to this machine's loopback address."""
    host = urlsplit(settings.PUBLIC_BASE_URL).hostname or ""
    if settings.DEBUG or host not in ("localhost", "127.0.0.1", "::1", ""):
        return []
    return [
        Warning(
            f"PUBLIC_BASE_URL is {settings.PUBLIC_BASE_URL!r} while DEBUG is off: the unsubscribe link of every "
            "email would lead nowhere.",
            hint="Set PUBLIC_BASE_URL to the app's public https address.",
            id="linktrack.W003",
        )
    ]


@register(deploy=False)
def click_stream_persistence_check(app_configs, **kwargs):
    """Warn when a restart of the click stream's Redis would lose the clicks waiting in it."""
    problem = click_stream_at_risk()
    if not problem:
        return []
    return [
        Warning(
            problem[0].upper() + problem[1:] + ".",
            hint="Run the click stream's Redis with appendonly yes (as docker-compose.yml does), or with a replica. "
            "README, Faults: Click faults.",
            id="linktrack.W004",
        )
    ]
