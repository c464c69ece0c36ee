"""Fixtures of the proof tests: sending a test as the preview page does."""

import pytest

from campaigns.sending.test_sends import proof_send
from delivery.models import Proof


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """proof_send as the preview calls it: the hand-over task runs (in-process here) once the test is committed."""

    def send(**kwargs) -> Proof:
        with django_capture_on_commit_callbacks(execute=True):
            proof = proof_send(**kwargs)
        proof.refresh_from_db()
        return proof

    return send
