"""The Celery app: broker from SERVICELOOP_BROKER_URL, the embedded SQLite broker by default."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceloop.settings")

app = Celery("serviceloop")


@app.on_configure.connect
def _prepare_data_dir(**_: object) -> None:
    # Sent before the settings are read: a worker or beat started as `celery -A serviceloop …`
    # (not through `serviceloop worker`) finds its data directory, broker and secret key.
    from serviceloop.core.data_dir import data_dir_prepare

    data_dir_prepare()


app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
