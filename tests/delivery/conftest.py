import pytest
from aiosmtpd.controller import Controller

from tests.local_peers import RefusingMailbox, free_port


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Users are created in nearly every test here; the production hasher's cost adds nothing to what is tested.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def smtp_peer():
    """The receiving mail server that accepts every email (a bounce comes later)."""
    mailbox = RefusingMailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()
