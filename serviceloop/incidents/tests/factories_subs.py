"""Rows for the subscription tests: incidents, updates and maintenance written with the ORM, their
events recorded as the incidents services record them, and a real webhook receiver on loopback."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.db import transaction

from serviceloop.catalogue.models import Service
from serviceloop.core import clock
from serviceloop.core.events import event_record
from serviceloop.core.models import Event
from serviceloop.desk.tests.factories import make_service
from serviceloop.incidents import events
from serviceloop.incidents.models import (
    AffectedService,
    Component,
    ComponentStatus,
    Incident,
    IncidentUpdate,
    Subscription,
)
from serviceloop.incidents.references import next_reference

_numbers = itertools.count(1)


def make_component(name: str, *, is_public: bool = True, service: Service | None = None) -> Component:
    service = service or make_service(name)
    return Component.objects.create(service=service, name=name, is_public=is_public)


def make_incident(
    *services: Service, title: str = "Mail is slow", visibility: str = Incident.Visibility.PUBLIC, **fields: Any
) -> Incident:
    incident = Incident.objects.create(
        reference=next_reference("incident"), title=title, visibility=visibility, declared_at=clock.now(), **fields
    )
    for service in services:
        AffectedService.objects.create(incident=incident, service=service, component_status=ComponentStatus.MAJOR)
    return incident


def make_maintenance(*services: Service, title: str = "Mail server upgrade", **fields: Any) -> Incident:
    start = clock.now() + timedelta(days=2)
    incident = Incident.objects.create(
        reference=next_reference("maintenance"),
        kind=Incident.Kind.MAINTENANCE,
        status=Incident.Status.SCHEDULED,
        title=title,
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=2),
        notice_minutes=60,
        **fields,
    )
    for service in services:
        AffectedService.objects.create(incident=incident, service=service, component_status=ComponentStatus.MAINTENANCE)
    return incident


def post_update(
    incident: Incident,
    body: str = "We are looking into slow mail delivery.",
    *,
    status: str = Incident.Status.INVESTIGATING,
    audiences: list[str] | None = None,
    deliver_notifications: bool = True,
    affected_components: list[dict[str, Any]] | None = None,
) -> tuple[IncidentUpdate, Event]:
    """An update as the incidents service posts it: the row and its event in one transaction."""
    audiences = ["public", "customers"] if audiences is None else audiences
    with transaction.atomic():
        update = IncidentUpdate.objects.create(
            incident=incident,
            status=status,
            audiences=audiences,
            body=body,
            display_at=clock.now(),
            deliver_notifications=deliver_notifications,
            affected_components=affected_components or [],
        )
        event = event_record(
            events.INCIDENT_UPDATE_POSTED,
            subject=incident,
            incident_id=incident.pk,
            update_id=update.pk,
            audiences=audiences,
            status=status,
            deliver_notifications=deliver_notifications,
        )
    return update, event


def record_maintenance(incident: Incident, name: str) -> Event:
    with transaction.atomic():
        return event_record(name, subject=incident, incident_id=incident.pk, status=incident.status)


def make_email_subscription(email: str, *services: Service, confirmed: bool = True) -> Subscription:
    subscription = Subscription.objects.create(
        kind=Subscription.Kind.EMAIL, email=email, confirmed_at=clock.now() if confirmed else None
    )
    subscription.services.set(services)
    return subscription


def make_webhook(url: str, *services: Service, owner_email: str = "ops@customer.example") -> Subscription:
    subscription = Subscription.objects.create(
        kind=Subscription.Kind.WEBHOOK, url=url, owner_email=owner_email, confirmed_at=clock.now()
    )
    subscription.services.set(services)
    return subscription


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 that records each POST; `fail(n)` answers 500 to the next n,
    `down()` refuses every POST with 503 until `up()`."""

    received: list[Received] = field(default_factory=list)
    failures_left: int = 0
    always_fail: bool = False
    answer: int = 204  # what a POST that is not failed gets (a 302 to test redirects)
    delay: float = 0.0  # seconds before answering (a receiver slower than our timeout)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/status"

    def fail(self, times: int) -> None:
        self.failures_left = times

    def down(self) -> None:
        self.always_fail = True

    def up(self) -> None:
        self.always_fail = False

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.received.append(Received(headers=dict(self.headers.items()), body=body))
                    failing = receiver.always_fail or receiver.failures_left > 0
                    if receiver.failures_left > 0:
                        receiver.failures_left -= 1
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(503 if failing else receiver.answer)
                if receiver.answer in (301, 302, 307, 308):
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
