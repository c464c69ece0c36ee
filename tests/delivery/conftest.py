import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Users are created in nearly every test here; the production hasher's cost adds nothing to what is tested.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
