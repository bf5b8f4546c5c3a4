"""Housekeeping: the embedded broker forgets messages it handed out; idempotency keys expire."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from kombu import Connection

from serviceloop.core.models import IdempotencyKey
from serviceloop.core.tasks import embedded_broker_purge, housekeeping

pytestmark = pytest.mark.django_db


def _broker_rows(url: str) -> dict[bool, int]:
    engine = sqlalchemy.create_engine(url.removeprefix("sqla+"))
    try:
        with engine.connect() as connection:
            rows = connection.execute(sqlalchemy.text("SELECT visible, COUNT(*) FROM kombu_message GROUP BY visible"))
            return {bool(visible): int(count) for visible, count in rows}
    finally:
        engine.dispose()


def test_the_embedded_broker_forgets_messages_it_handed_out(tmp_path: Path, settings: Any) -> None:
    url = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    settings.CELERY_BROKER_URL = url
    with Connection(url) as connection:
        queue = connection.SimpleQueue("celery")
        for n in range(5):
            queue.put({"n": n})
        for _ in range(3):
            queue.get(timeout=5).ack()
        queue.close()
    assert _broker_rows(url) == {True: 2, False: 3}

    assert embedded_broker_purge() == 0  # handed out just now: kept for the hour a worker may need
    assert embedded_broker_purge(older_than=timedelta(seconds=-60)) == 3
    assert _broker_rows(url) == {True: 2}  # messages still waiting are never touched


def test_housekeeping_forgets_idempotency_keys_past_their_retention(travel: Any, settings: Any) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # not the embedded broker: nothing to purge there
    for key in ("old", "new"):
        IdempotencyKey.objects.create(
            scope="s", key=key, fingerprint="", status_code=201, content_type="", body=b"", created_at=travel.now()
        )
        travel.by(hours=25 if key == "old" else 0)
    assert housekeeping() == {"idempotency_keys": 1, "rate_limit_counters": 0, "broker_messages": 0}
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
