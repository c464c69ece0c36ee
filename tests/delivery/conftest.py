import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Users are created in nearly every test here; the production hasher's cost adds nothing to what is tested.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _gateways_on_this_machine(settings):
    # The gateways of these tests are real peers on 127.0.0.1 (SMSC, SMTP and HTTP servers); the tests of the refusal
    # turn this off again.
    settings.GATEWAY_ALLOW_PRIVATE_ADDRESSES = True
