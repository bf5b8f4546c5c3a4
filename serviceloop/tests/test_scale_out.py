"""Scale-out on PostgreSQL and Redis: two web processes, two workers and one beat, all separate.

A fresh database `sl_faults_scale_<random>` on the server of SERVICELOOP_TEST_DATABASE_URL (created,
migrated with `serviceloop migrate`, dropped at the end) and Redis database 12 on the server of
SERVICELOOP_TEST_BROKER_URL (flushed before and after). Then `serviceloop serve --workers 1` twice
on free ports, `serviceloop worker` twice and `serviceloop beat` once, and a real SMTP server in
this process. A bounded workload goes over HTTP with an agent's API token, alternating between the
two web processes: open a ticket (with an Idempotency-Key, the retry sent to the *other* process),
reply, resolve. Then every row, every event delivery (one per subscriber of each event, as the code
registers them) and every mail (once, by Message-ID) is checked, reading the database directly.

Skipped when either variable is unset (CI's .ci/run sets both), and in the SQLite run of the suite:
it runs once per `make test`, in the PostgreSQL run (SERVICELOOP_DATABASE_URL set).
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from serviceloop.core.events import subscribers_of
from serviceloop.core.testing import free_port, wait_until
from serviceloop.core.tests.faults import PYTHON, Child, Mailbox, child_env, cli, run, start, stop_all

pytestmark = pytest.mark.worker

DATABASE_URL = os.environ.get("SERVICELOOP_TEST_DATABASE_URL", "")
BROKER_URL = os.environ.get("SERVICELOOP_TEST_BROKER_URL", "")
REDIS_DB = 12
TICKETS = 6
# Per ticket: the acknowledgement, the reply notice, the resolution notice (carrying the survey).
MAILS = TICKETS * 3


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass
class Installation:
    env: dict[str, str]
    database_url: str
    web: list[str]
    children: list[Child]
    mailbox: Mailbox

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as connection:
            return connection.execute(statement, params).fetchall()


def _admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(_with_path(DATABASE_URL, "/postgres"), autocommit=True) as connection:
        connection.execute(statement)


def _flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


@pytest.fixture
def installation(tmp_path: Path) -> Iterator[Installation]:
    if not DATABASE_URL or not BROKER_URL:
        pytest.skip("the scale-out test needs SERVICELOOP_TEST_DATABASE_URL and SERVICELOOP_TEST_BROKER_URL")
    if not os.environ.get("SERVICELOOP_DATABASE_URL"):
        # make test runs the suite twice (SQLite, then PostgreSQL); this test's processes use a database
        # of their own either way, so it runs once, in the PostgreSQL run.
        pytest.skip("the scale-out test runs in the PostgreSQL run of the suite (make pytest-postgres)")
    name = f"sl_faults_scale_{secrets.token_hex(4)}"
    database_url = _with_path(DATABASE_URL, f"/{name}")
    broker_url = _with_path(BROKER_URL, f"/{REDIS_DB}")
    _flush_redis(broker_url)
    _admin(f'CREATE DATABASE "{name}"')
    mailbox = Mailbox().start()
    children: list[Child] = []
    try:
        env = child_env(
            tmp_path, SERVICELOOP_DATABASE_URL=database_url, SERVICELOOP_BROKER_URL=broker_url, **mailbox.env()
        )
        run(cli("migrate"), env, timeout=300)
        ports = [free_port(), free_port()]
        for n, port in enumerate(ports, 1):
            children.append(start(f"web{n}", cli("serve", "--port", str(port), "--workers", "1"), env, tmp_path))
        for n in (1, 2):
            worker = cli("worker", "--concurrency", "1")
            children.append(start(f"worker{n}", worker, env, tmp_path))
        children.append(start("beat", cli("beat"), env, tmp_path))
        web = [f"http://127.0.0.1:{port}" for port in ports]
        for child, base in zip(children, web, strict=False):
            wait_until(lambda base=base, child=child: _up(base, child), timeout=90, interval=0.3, message=f"{base} up")
        yield Installation(env=env, database_url=database_url, web=web, children=children, mailbox=mailbox)
    finally:
        stop_all(children)
        mailbox.stop()
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _flush_redis(broker_url)


def _up(base: str, child: Child) -> bool:
    if not child.alive():
        raise AssertionError(f"{child.name} exited:\n{child.output()}")
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _call(base: str, token: str, path: str, body: dict[str, Any], key: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(f"{base}{path}", data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def test_two_web_processes_two_workers_and_one_beat_deliver_every_event_and_mail_once(
    installation: Installation,
) -> None:
    site = installation
    seeded = json.loads(
        run([PYTHON, "-m", "serviceloop.tests.fault_workload", "seed", str(TICKETS)], site.env).splitlines()[-1]
    )
    token = seeded["token"]
    for n, person in enumerate(seeded["people"]):
        here, there = site.web[n % 2], site.web[(n + 1) % 2]
        body = {"service": seeded["service"], "requester": person, "subject": f"Scanner {n}", "body": "No scans."}
        status, opened = _call(here, token, "/api/desk/tickets", body, key=f"open-{n}")
        assert status == 201, opened
        # The client retries on the other web process: the first answer, no second ticket.
        status, again = _call(there, token, "/api/desk/tickets", body, key=f"open-{n}")
        assert (status, again["public_id"]) == (201, opened["public_id"])
        public_id = opened["public_id"]
        status, replied = _call(there, token, f"/api/desk/tickets/{public_id}/messages", {"body": "Looking now."})
        assert status == 201, replied
        status, resolved = _call(here, token, f"/api/desk/tickets/{public_id}/resolve", {"resolution": "New driver."})
        assert status == 200, resolved

    def settled() -> bool:
        for child in site.children:
            assert child.alive(), f"{child.name} exited:\n{child.output()}"
        [(open_events,)] = site.sql("SELECT COUNT(*) FROM core_event WHERE completed_at IS NULL")
        [(unsent,)] = site.sql("SELECT COUNT(*) FROM core_outgoingmail WHERE status <> 'sent'")
        [(mails,)] = site.sql("SELECT COUNT(*) FROM core_outgoingmail")
        return open_events == 0 and unsent == 0 and mails == MAILS and site.mailbox.count() >= MAILS

    wait_until(settled, timeout=90, interval=0.5, message="every event delivered and every mail sent")

    assert site.sql("SELECT COUNT(*), COUNT(DISTINCT requester_id) FROM desk_ticket WHERE status = 'resolved'") == [
        (TICKETS, TICKETS)
    ]
    assert site.sql("SELECT COUNT(*), COUNT(DISTINCT ticket_id) FROM feedback_invitation") == [(TICKETS, TICKETS)]
    delivered: dict[int, set[str]] = {}
    for event_id, subscriber in site.sql(
        "SELECT event_id, subscriber FROM core_eventdelivery WHERE status = 'delivered'"
    ):
        delivered.setdefault(event_id, set()).add(subscriber)
    assert site.sql("SELECT COUNT(*) FROM core_eventdelivery WHERE status <> 'delivered'") == [(0,)]
    for event_id, name in site.sql("SELECT id, name FROM core_event"):
        assert delivered.get(event_id, set()) == {entry.name for entry in subscribers_of(name)}, name
    tally = site.mailbox.tally(row[0] for row in site.sql("SELECT message_id FROM core_outgoingmail"))
    assert (tally.lost, tally.duplicated, tally.unexpected) == ([], {}, []), tally
