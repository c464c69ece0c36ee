"""A time limit for a test that would otherwise hang: the code under test is interrupted and the test fails."""

import signal
from collections.abc import Iterator
from contextlib import contextmanager


class TookTooLong(AssertionError):
    pass


@contextmanager
def within_seconds(seconds: float) -> Iterator[None]:
    """Fail with TookTooLong when the block runs longer than `seconds` (main thread only: it uses SIGALRM)."""

    def interrupt(signum, frame):
        raise TookTooLong(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
