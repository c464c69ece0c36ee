"""The Celery app, configured from Django's settings (CELERY_*); tasks are found in each app's tasks.py and in
CELERY_IMPORTS.

With no broker (the embedded mode, `make run`), Celery runs tasks in-process ("eager"). Run in the request that
queued them, a 100,000-row import or a launch to 5,000 customers would keep the browser waiting until the work was
done; so when TASKS_IN_BACKGROUND_THREAD is on, a task queued from a request (or from beat) runs on one of a few
background threads of the same process instead, and the page answers at once. A task queued by a task already on
such a thread runs there and then, as eager tasks always did. The tests turn the setting off: a task runs in the
call that queued it, so what a test sees right after is deterministic.
"""

import logging
import os
import queue
import threading

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linktrack.settings")

logger = logging.getLogger(__name__)


class BackgroundThreads:
    """A few daemon threads taking tasks from one queue, started on first use. Daemon threads: stopping the server
    (Ctrl-C) does not wait for an import to finish; every task is safe to run again (the supervisor restarts an
    interrupted dispatch; an interrupted import is uploaded again)."""

    def __init__(self):
        self._queue: queue.Queue = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._local = threading.local()

    @property
    def in_worker(self) -> bool:
        return getattr(self._local, "worker", False)

    def submit(self, task: Task, args, kwargs, options: dict) -> None:
        self._start(count=_setting("TASKS_BACKGROUND_THREADS", 2))
        self._queue.put((task, args, kwargs, options))

    def wait(self) -> None:
        """Until every task queued so far has run (the tests of the embedded mode wait here before they end)."""
        self._queue.join()

    def _start(self, *, count: int) -> None:
        with self._lock:
            self._threads = [thread for thread in self._threads if thread.is_alive()]
            for number in range(len(self._threads), max(count, 1)):
                thread = threading.Thread(target=self._work, name=f"linktrack-tasks-{number}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _work(self) -> None:
        from django.db import close_old_connections, connections

        self._local.worker = True
        while True:
            task, args, kwargs, options = self._queue.get()
            try:
                close_old_connections()
                task.apply(args, kwargs, **options)
            except Exception:
                logger.exception("task %s failed on a background thread", task.name)
            finally:
                connections.close_all()
                self._queue.task_done()


background_threads = BackgroundThreads()


def _setting(name: str, default):
    from django.conf import settings

    return getattr(settings, name, default)


class EmbeddedTask(Task):
    """A task that, run in-process with TASKS_IN_BACKGROUND_THREAD on, runs off the request (see the module)."""

    def apply_async(self, args=None, kwargs=None, task_id=None, producer=None, link=None, link_error=None, **options):
        app = self._get_app()
        if (
            app.conf.task_always_eager
            and _setting("TASKS_IN_BACKGROUND_THREAD", False)
            and not background_threads.in_worker
        ):
            # Countdowns are not waited for, as eager tasks never waited for them.
            options = {key: value for key, value in options.items() if key not in ("countdown", "eta", "expires")}
            background_threads.submit(self, args or (), kwargs or {}, options)
            return None
        return super().apply_async(
            args, kwargs, task_id=task_id, producer=producer, link=link, link_error=link_error, **options
        )


app = Celery("linktrack", task_cls=EmbeddedTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
