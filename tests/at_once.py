"""Run calls at the same moment, each in its own thread and so on its own database connection, as two workers would."""

import threading
from collections.abc import Callable

from django.db import connection


def run_at_once(*calls: Callable[[], object]) -> list:
    """What each call returned, or the exception it raised, in the order of `calls`."""
    start = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            start.wait()
            results[index] = call()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
