import pytest
from aiosmtpd.controller import Controller

from tests.local_peers import RefusingMailbox, free_port


@pytest.fixture
def smtp_peer():
    """The receiving mail server that accepts every email (a bounce comes later)."""
    mailbox = RefusingMailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()
