"""Fixtures of the fault tests: a mailbox that can go down, a broker that is down, a worker on a live broker."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from serviceloop.core.testing import _reset_producer_pool, free_port
from serviceloop.core.tests.faults import Mailbox

_BROKER_KEYS = ("broker_url", "task_always_eager", "broker_transport_options")


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    """A real SMTP server on loopback that the test may stop and start again (same port)."""
    box = Mailbox().start()
    for name, value in box.django_settings().items():
        setattr(settings, name, value)
    try:
        yield box
    finally:
        box.stop()


@contextlib.contextmanager
def broker_at(url: str, options: dict[str, Any]) -> Iterator[None]:
    """Point this process's Celery app (producers included) at `url`, not eager, for the `with`."""
    from serviceloop.celery import app

    previous = {key: app.conf.get(key) for key in _BROKER_KEYS}
    app.conf.update(broker_url=url, task_always_eager=False, broker_transport_options=options)
    _reset_producer_pool(app)
    try:
        yield
    finally:
        app.conf.update(**previous)
        _reset_producer_pool(app)


@pytest.fixture
def broker_down(settings: Any) -> Iterator[str]:
    """The app's broker is Redis on a port where nothing listens, with production's transport options."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    url = f"redis://127.0.0.1:{free_port()}/0"
    with broker_at(url, dict(settings.SERVICELOOP_REMOTE_BROKER_OPTIONS)):
        yield url


@contextlib.contextmanager
def live_worker() -> Iterator[Any]:
    """A real worker (a thread of this process, solo pool) on a fresh embedded broker, for the `with`."""
    from celery.contrib.testing.worker import start_worker

    from serviceloop.celery import app

    broker_dir = Path(tempfile.mkdtemp(prefix="serviceloop-broker-"))
    try:
        with (
            broker_at(f"sqla+sqlite:///{broker_dir / 'broker.sqlite3'}", {}),
            start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING") as worker,
        ):
            yield worker
    finally:
        shutil.rmtree(broker_dir, ignore_errors=True)
