"""Pytest fixtures shared by every app (registered from the root conftest.py).

Real parts only: an SMTP server on loopback, a Celery worker on a real broker, Debian's chromium.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from serviceloop.core import clock

if TYPE_CHECKING:
    from serviceloop.core.tests.faults import Mailbox

CHROMIUM = os.environ.get("SERVICELOOP_TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # PBKDF2 costs ~0.2 s a user; the matrix creates five users per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _rate_limits_out_of_the_way(settings: Any) -> None:
    # Every test client is 127.0.0.1: tests that send many requests must not meet production's limits
    # by accident. The rules stay on (counted, one query each); the rate-limit tests set realistic
    # limits of their own with override_settings.
    # (pytest-django's `settings` wrapper lists no settings of its own: read the names from Django's.)
    from django.conf import settings as django_settings

    wrapped = django_settings._wrapped  # type: ignore[misc]
    names = [name for name in dir(wrapped) if name.startswith("SERVICELOOP_RATE_")]
    assert names, "no SERVICELOOP_RATE_ settings found: the limits would stay on in every test"
    for name in names:
        setattr(settings, name, "1000000/1m")


class Travel:
    """Moves `serviceloop.core.clock.now` (the one place the code reads the time)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.current: datetime | None = None
        monkeypatch.setattr(clock, "now", self.now)

    def now(self) -> datetime:
        from django.utils import timezone

        return self.current or timezone.now()

    def to(self, instant: datetime) -> datetime:
        assert instant.tzinfo is not None
        self.current = instant
        return instant

    def by(self, **delta: float) -> datetime:
        return self.to(self.now() + timedelta(**delta))


@pytest.fixture
def travel(monkeypatch: pytest.MonkeyPatch) -> Iterator[Travel]:
    yield Travel(monkeypatch)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpSink:
    """What a real SMTP server on loopback received, parsed as a mail client would."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int = 1, timeout: float = 15.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(
            f"expected {count} message(s) at the SMTP server within {timeout}s, got {len(self.messages)}"
        )

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address.lower() in str(m.get("To", "")).lower()]


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data: bytes = envelope.original_content or envelope.content
        message = email.message_from_bytes(data, policy=email.policy.default)
        with self.sink.lock:
            self.sink.raw.append(data)
            self.sink.messages.append(message)  # type: ignore[arg-type]
            self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1; Django's SMTP backend is pointed at it for the test."""
    from aiosmtpd.controller import Controller

    port = free_port()
    sink = SmtpSink(host="127.0.0.1", port=port)
    controller = Controller(_Handler(sink), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield sink
    finally:
        controller.stop()


def _broker_params() -> list[Any]:
    params: list[Any] = [pytest.param("embedded", id="embedded-broker")]
    if os.environ.get("SERVICELOOP_TEST_BROKER_URL"):
        params.append(pytest.param(os.environ["SERVICELOOP_TEST_BROKER_URL"], id="redis-broker"))
    return params


@pytest.fixture(params=_broker_params())
def celery_worker(request: Any, settings: Any, transactional_db: Any) -> Iterator[Any]:
    """A real Celery worker (in a thread of this process) on a real broker.

    Parametrised: the embedded SQLite broker always, Redis too when SERVICELOOP_TEST_BROKER_URL is set.
    Tasks see the test database because the test uses `transactional_db`.
    """
    from celery.contrib.testing.worker import start_worker

    from serviceloop.celery import app

    broker_dir = Path(tempfile.mkdtemp(prefix="serviceloop-broker-"))
    url = f"sqla+sqlite:///{broker_dir / 'broker.sqlite3'}" if request.param == "embedded" else request.param
    previous = {key: app.conf.get(key) for key in ("broker_url", "task_always_eager", "broker_transport_options")}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # The SQLAlchemy transport hands its options to create_engine, which knows no polling interval.
    options = {} if url.startswith("sqla+") else {"polling_interval": 0.1}
    app.conf.update(broker_url=url, task_always_eager=False, broker_transport_options=options)
    # Drop the pool bound to the previous broker, so producers and the worker use this one.
    _reset_producer_pool(app)
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"
        ) as worker:
            yield worker
    finally:
        app.conf.update(**previous)
        _reset_producer_pool(app)
        shutil.rmtree(broker_dir, ignore_errors=True)


def _reset_producer_pool(app: Any) -> None:
    # Producers keep connections to the broker they first used; drop them when the broker changes.
    from kombu import pools

    from serviceloop.core.tasks import broker_rest_end

    # A failure remembered from the previous broker must not hold back kicks to this one.
    broker_rest_end()
    # kombu keeps producer pools in a process-wide registry keyed by connection; clear it all.
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@contextlib.contextmanager
def subscribed(*event_names: str, name: str = "tests.capture") -> Iterator[list[Any]]:
    """A subscriber for the duration of a `with`: yields the list of events it was delivered."""
    from serviceloop.core import events

    seen: list[Any] = []
    added = []
    for event_name in event_names:
        entry = events.Subscriber(event_name=event_name, name=name, handler=seen.append)
        events._SUBSCRIBERS.setdefault(event_name, []).append(entry)
        added.append(entry)
    try:
        yield seen
    finally:
        for entry in added:
            events._SUBSCRIBERS[entry.event_name].remove(entry)


def wait_until(condition: Any, timeout: float = 20.0, interval: float = 0.1, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"{message} not met within {timeout}s")


SKIP_BROWSER = os.environ.get("SERVICELOOP_SKIP_BROWSER_TESTS", "").lower() in {"1", "true", "yes"}
_browser_skipped: list[str] = []


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright; no browser download.

    A missing chromium fails the test with the command that installs it: browser tests never skip
    silently. SERVICELOOP_SKIP_BROWSER_TESTS=1 skips them on purpose, and the summary says so.
    """
    if not Path(CHROMIUM).exists():
        if SKIP_BROWSER:
            pytest.skip(f"browser tests skipped on purpose (SERVICELOOP_SKIP_BROWSER_TESTS): no {CHROMIUM}")
        pytest.fail(
            f"{CHROMIUM} is missing, so the browser tests cannot run. Install Debian's chromium "
            "(`sudo apt-get install -y chromium`; `make test` does it when run as root), "
            "or set SERVICELOOP_SKIP_BROWSER_TESTS=1 to skip them on purpose.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A browser tab; the test fails if the Content-Security-Policy refused anything on its pages
    (an inline script or handler, an inline style, a foreign asset): that part silently does not work."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    tab = context.new_page()
    refused: list[str] = []

    def on_console(message: Any) -> None:
        # frame-ancestors refusals are the policy doing its work (a widget on a page not allowed to
        # frame it); anything else refused is a part of our page that does not run.
        if "Content Security Policy" in message.text and "frame-ancestors" not in message.text:
            refused.append(f"{tab.url}: {message.text}")

    tab.on("console", on_console)
    try:
        yield tab
    finally:
        context.close()
    assert not refused, "the Content-Security-Policy refused:\n" + "\n".join(refused)


# ---------------------------------------------------------------- the media storage


@dataclass
class MediaStore:
    """The media storage a test runs on, and what is really stored in it (read past Django's storage)."""

    kind: str
    root: Path | None = None  # filesystem: the media directory
    bucket: str = ""  # s3: the bucket, the prefix inside it, a boto3 client of its own
    prefix: str = ""
    client: Any = None

    def names(self) -> list[str]:
        """Every stored file, as the names attachment rows use (relative to the media root or prefix)."""
        if self.kind == "s3":
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"{self.prefix}/")
            keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
            return sorted(key.removeprefix(f"{self.prefix}/") for key in keys)
        assert self.root is not None
        return sorted(str(path.relative_to(self.root)) for path in self.root.rglob("*") if path.is_file())

    def read(self, name: str) -> bytes:
        if self.kind == "s3":
            return bytes(self.client.get_object(Bucket=self.bucket, Key=f"{self.prefix}/{name}")["Body"].read())
        assert self.root is not None
        return (self.root / name).read_bytes()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A real S3-compatible server on loopback: moto in server mode, one per test process."""
    from moto.server import ThreadedMotoServer

    # werkzeug logs every request at INFO; the tests' own failures are what matter.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_media(s3_server: str, settings: Any, tmp_path: Path) -> MediaStore:
    """The default storage on a fresh bucket of `s3_server`, configured the way an operator does it:
    from SERVICELOOP_S3_* variables, by the code settings.py uses."""
    import boto3

    from serviceloop.core.storage_settings import media_storage

    bucket = f"sl-test-{os.urandom(6).hex()}"
    environment = {
        "SERVICELOOP_MEDIA_STORAGE": "s3",
        "SERVICELOOP_S3_BUCKET": bucket,
        "SERVICELOOP_S3_ENDPOINT_URL": s3_server,
        "SERVICELOOP_S3_REGION": "us-east-1",
        "SERVICELOOP_S3_ACCESS_KEY_ID": "test-access-key",
        "SERVICELOOP_S3_SECRET_ACCESS_KEY": "test-secret-key",
        "SERVICELOOP_S3_PREFIX": "serviceloop-media",
    }
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="test-access-key",
        aws_secret_access_key="test-secret-key",  # noqa: S106  (moto accepts any key)
    )
    client.create_bucket(Bucket=bucket)
    # Assigning STORAGES sends setting_changed, which empties Django's cache of storage instances, so
    # `default_storage` (and every FileField) is built anew on the bucket; the teardown does it back.
    settings.STORAGES = {**settings.STORAGES, "default": media_storage(environment)}
    # Anything that still wrote to the local media directory would show up here.
    settings.MEDIA_ROOT = tmp_path / "local-media"
    return MediaStore(kind="s3", bucket=bucket, prefix="serviceloop-media", client=client)


@pytest.fixture
def filesystem_media(settings: Any, tmp_path: Path) -> MediaStore:
    """The default storage on a media directory of this test's own."""
    root = tmp_path / "media"
    root.mkdir()
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.MEDIA_ROOT = root
    return MediaStore(kind="filesystem", root=root)


@pytest.fixture(params=["filesystem", "s3"])
def media(request: Any) -> MediaStore:
    """Each storage an operator may choose: the test runs once on a directory, once on a bucket."""
    return request.getfixturevalue(f"{request.param}_media")  # type: ignore[no-any-return]


# ---------------------------------------------------------------- fault tests (issue 9)

_BROKER_KEYS = ("broker_url", "task_always_eager", "broker_transport_options")


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    """A real SMTP server on loopback that the test may stop and start again (same port)."""
    from serviceloop.core.tests.faults import Mailbox

    box = Mailbox().start()
    for name, value in box.django_settings().items():
        setattr(settings, name, value)
    try:
        yield box
    finally:
        box.stop()


@contextlib.contextmanager
def broker_at(url: str, options: dict[str, Any]) -> Iterator[None]:
    """Point this process's Celery app (producers included) at `url`, not eager, for the `with`.

    Change no Django setting before it: the app reads them lazily, so a changed setting would be
    taken for the value to restore and outlive the test (later eager tests would not be eager).
    """
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


def pytest_runtest_logreport(report: Any) -> None:
    if report.skipped and "SERVICELOOP_SKIP_BROWSER_TESTS" in str(report.longrepr):
        _browser_skipped.append(report.nodeid)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _browser_skipped:
        terminalreporter.write_line(
            f"NOTE: {len(_browser_skipped)} browser test{' was' if len(_browser_skipped) == 1 else 's were'} "
            "skipped on purpose "
            "(SERVICELOOP_SKIP_BROWSER_TESTS is set): the pages were not tried in a browser.",
            yellow=True,
            bold=True,
        )
