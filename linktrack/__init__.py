"""The project's wiring (settings, URLconf, Celery app) and the link-tracking app: the redirect path, click counts,
its services (operations, for campaigns.sending) and selectors (reads)."""

from linktrack.celery import app as celery_app

__all__ = ["celery_app"]
