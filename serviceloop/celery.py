"""The Celery app: broker from SERVICELOOP_BROKER_URL, the embedded SQLite broker by default."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceloop.settings")

app = Celery("serviceloop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
