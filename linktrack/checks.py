from django.conf import settings
from django.core.checks import Error, Tags, register


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
