"""Event dispatch: events delivered per second through the outbox, beside calling the receiver in process.

    .venv/bin/python bench/event_dispatch.py [--events 500]
    SERVICELOOP_DATABASE_URL=postgres://postgres@127.0.0.1:5432/sl_bench .venv/bin/python bench/event_dispatch.py

For SQLite (a fresh database in a temporary data directory) and, when SERVICELOOP_DATABASE_URL (or
SERVICELOOP_BENCH_DATABASE_URL) is set, PostgreSQL too — in a database of its own on that server,
`<name>_bench_events`, created and dropped by the run, so the configured database is never touched.
The broker is the embedded one, or SERVICELOOP_BENCH_BROKER_URL (e.g. redis://127.0.0.1:6379/14).

One subscriber, `bench.mark`, whose work is one row written (what a real receiver does at least).
Three ways of getting N events to it, in the same run:

1. in process (the baseline, the old way): the change's transaction calls the receiver itself;
2. outbox + worker: each event recorded in its own transaction (`event_record`), the after-commit
   kick through the broker to a real Celery worker (solo pool, in a thread of this process, so it
   knows the bench subscriber), which claims and records each delivery; timed from the first record
   until every delivery row is `delivered`;
3. outbox + sweep: the same events recorded with the broker down, then delivered by `sweep_once()`
   (what beat runs every 30 s); the sweep alone is timed.

Prints events/s for each and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
EVENT = "bench.happened"
SUBSCRIBER = "bench.mark"


def _mark(event: Any) -> None:
    from serviceloop.core.models import IdempotencyKey

    IdempotencyKey.objects.create(
        scope="bench", key=f"e-{event.pk}", fingerprint="", status_code=200, content_type="", body=b""
    )


def _empty() -> None:
    from serviceloop.core.models import Event, IdempotencyKey

    Event.objects.filter(name=EVENT).delete()
    IdempotencyKey.objects.filter(scope="bench").delete()


def _in_process(count: int) -> float:
    from django.db import transaction

    from serviceloop.core.models import Event

    started = time.perf_counter()
    for n in range(count):
        with transaction.atomic():
            # The same event object a subscriber gets, unsaved: no outbox row, the receiver called inline.
            _mark(Event(pk=n + 1, name=EVENT, data={"n": n}))
    return count / (time.perf_counter() - started)


def _through_worker(count: int, broker_url: str) -> float:
    from celery.contrib.testing.worker import start_worker
    from django.db import transaction

    from serviceloop.celery import app
    from serviceloop.core.events import event_record
    from serviceloop.core.models import EventDelivery

    options = {} if broker_url.startswith("sqla+") else {"polling_interval": 0.05}
    app.conf.update(broker_url=broker_url, task_always_eager=False, broker_transport_options=options)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"):
        started = time.perf_counter()
        for n in range(count):
            with transaction.atomic():
                event_record(EVENT, n=n)
        deadline = time.monotonic() + 600
        delivered = EventDelivery.objects.filter(subscriber=SUBSCRIBER, status=EventDelivery.Status.DELIVERED)
        while delivered.count() < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {delivered.count()} of {count} delivered in 10 minutes")
            time.sleep(0.02)
        return count / (time.perf_counter() - started)


def _through_sweep(count: int) -> float:
    from django.db import transaction

    from serviceloop.celery import app
    from serviceloop.core import clock
    from serviceloop.core.events import event_record
    from serviceloop.core.models import Event, EventDelivery
    from serviceloop.core.tasks import sweep_once

    # Nothing listens on port 9: every kick is refused at once and the events wait for the sweep.
    app.conf.update(
        broker_url="redis://127.0.0.1:9/0",
        broker_transport_options={"max_retries": 0, "socket_connect_timeout": 1},
    )
    for n in range(count):
        with transaction.atomic():
            event_record(EVENT, n=n)
    Event.objects.filter(name=EVENT).update(next_attempt_at=clock.now())  # due now, not after the grace
    started = time.perf_counter()
    while Event.objects.filter(name=EVENT, completed_at__isnull=True).exists():
        sweep_once()
    elapsed = time.perf_counter() - started
    assert EventDelivery.objects.filter(subscriber=SUBSCRIBER, status=EventDelivery.Status.DELIVERED).count() == count
    return count / elapsed


def child(count: int, broker_url: str) -> dict[str, Any]:
    import logging

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from serviceloop.celery import app
    from serviceloop.core.events import subscriber
    from serviceloop.core.testing import _reset_producer_pool

    call_command("migrate", "--noinput", "-v", "0")
    subscriber(EVENT, name=SUBSCRIBER)(_mark)
    logging.getLogger("serviceloop.core.tasks").setLevel(logging.ERROR)  # the refused kicks of (3)
    _empty()
    baseline = _in_process(count)
    _empty()
    worker = _through_worker(count, broker_url)
    _reset_producer_pool(app)
    _empty()
    sweep = _through_sweep(count)
    _empty()
    return {"vendor": connection.vendor, "baseline": baseline, "worker": worker, "sweep": sweep}


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def _postgres(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as connection:
        connection.execute(statement)


def run(database_url: str | None, label: str, count: int) -> dict[str, Any] | None:
    data_dir = tempfile.mkdtemp(prefix="serviceloop-bench-")
    broker = os.environ.get("SERVICELOOP_BENCH_BROKER_URL") or f"sqla+sqlite:///{Path(data_dir) / 'broker.sqlite3'}"
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "serviceloop.settings",
            "SERVICELOOP_DATA_DIR": data_dir,
            "SERVICELOOP_SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
            "SERVICELOOP_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.pop("SERVICELOOP_TASKS_EAGER", None)
    env.pop("SERVICELOOP_DATABASE_URL", None)
    env.pop("SERVICELOOP_BROKER_URL", None)
    database = None
    if database_url:
        database = f"{urlsplit(database_url).path.strip('/') or 'serviceloop'}_bench_events"
        _postgres(database_url, f'DROP DATABASE IF EXISTS "{database}"')
        _postgres(database_url, f'CREATE DATABASE "{database}"')
        env["SERVICELOOP_DATABASE_URL"] = _with_database(database_url, database)
    try:
        result = subprocess.run(
            [sys.executable, __file__, "--child", "--events", str(count), "--broker", broker],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        if database_url and database:
            _postgres(database_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)
    if result.returncode != 0:
        print(f"{label}: failed\n{result.stderr[-3000:]}", file=sys.stderr)
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--broker", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(child(args.events, args.broker)))
        return 0

    targets: list[tuple[str, str | None]] = [("SQLite", None)]
    postgres = os.environ.get("SERVICELOOP_BENCH_DATABASE_URL") or os.environ.get("SERVICELOOP_DATABASE_URL")
    if postgres:
        targets.append(("PostgreSQL", postgres))
    broker = os.environ.get("SERVICELOOP_BENCH_BROKER_URL") or "embedded broker"
    print(f"event dispatch of {args.events:,} events to one subscriber that writes a row ({broker})")
    print(
        f"{'database':<11} {'in process ev/s':>16} {'outbox+worker ev/s':>19} {'ratio':>6} {'outbox+sweep ev/s':>18} {'ratio':>6}"
    )
    ok = True
    for label, url in targets:
        figures = run(url, label, args.events)
        if figures is None:
            ok = False
            continue
        base = figures["baseline"]
        print(
            f"{label:<11} {base:>16,.0f} {figures['worker']:>19,.0f} {figures['worker'] / base:>6.0%}"
            f" {figures['sweep']:>18,.0f} {figures['sweep'] / base:>6.0%}"
        )
    if len(targets) == 1:
        print("(set SERVICELOOP_DATABASE_URL=postgres://… to measure PostgreSQL too, in a database of its own)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
