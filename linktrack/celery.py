"""The Celery app, configured from Django's settings (CELERY_*); tasks are found in each app's tasks.py and in
CELERY_IMPORTS."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linktrack.settings")

app = Celery("linktrack")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
