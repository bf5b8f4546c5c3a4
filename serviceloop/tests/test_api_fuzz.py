"""Schema fuzzing of the whole API on the demo data, as every role, following create → read →
update → delete through the ids the API itself hands out.

One test loads the demo set (and a failed mail, a failed event delivery and a signed post source,
so that the operator operations have something to act on), gives an API token to the demo's
administrator, service manager, agent and customer, and walks every operation of the OpenAPI
document as each of them:

- path parameters come from the ids earlier answers gave (lists and creates, harvested by the
  schema of each answer), the newest created first, so that an object is created, then read,
  changed and deleted; DELETE and token revocation come last;
- bodies are drawn by schemathesis from the operation's schema (valid ones, then invalid ones),
  with their reference fields (`organisation`, `service`, `person`, ...) filled with known ids;
  a few operations whose bodies no schema can describe (raw mail, NDJSON, a signed webhook) start
  from a hand-written example built from the seeded data;
- every answer is checked: never a 5xx, a status the operation declares, a content type and a
  body that match its schema.

It prints how many operations answered a success (2xx) to at least one role, and which did not;
below 90% it fails. SERVICELOOP_FUZZ_EXAMPLES sets the drawn cases per operation and role.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from serviceloop.accounts.models import User
from serviceloop.accounts.services import api_token_create
from serviceloop.catalogue.models import Service
from serviceloop.core import clock
from serviceloop.core.events import event_record
from serviceloop.core.models import EventDelivery, OutgoingMail
from serviceloop.demo import load_demo
from serviceloop.desk.models import Ticket
from serviceloop.experience.trust_models import TrustState
from serviceloop.feedback.models import PostSource
from serviceloop.incidents.maintenance import maintenance_schedule
from serviceloop.incidents.models import Review, Subscription, WebhookDelivery
from serviceloop.incidents.tests.factories_review import make_action, make_incident, make_review
from serviceloop.relationships.models import Person, Relationship


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: Any, value: Any) -> bytes:
    # The batch ingest takes raw NDJSON; the generated value is its body as bytes or text.
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


schema = schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler())
EXAMPLES = int(os.environ.get("SERVICELOOP_FUZZ_EXAMPLES", "4"))
SEED = 20261201
MINIMUM_COVERAGE = 0.90
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLES = ("administrator", "service_manager", "agent", "customer")

# Which object the `{public_id}` of a path names (the path up to the parameter). A new path
# parameter must be added here, or the walk cannot feed it and the test says so.
PATH_RESOURCES = {
    "/api/core/mails/{public_id}": "Mail",
    "/api/core/deliveries/{public_id}": "Delivery",
    "/api/accounts/tokens/{public_id}": "Token",
    "/api/catalogue/services/{public_id}": "Service",
    "/api/catalogue/offerings/{public_id}": "Offering",
    "/api/catalogue/components/{public_id}": "Component",
    "/api/catalogue/value-items/{public_id}": "ValueItem",
    "/api/relationships/organisations/{public_id}": "Organisation",
    "/api/relationships/people/{public_id}": "Person",
    "/api/relationships/relationships/{public_id}": "Relationship",
    "/api/desk/tickets/{public_id}": "Ticket",
    "/api/desk/attachments/{public_id}": "Attachment",
    "/api/feedback/surveys/{public_id}": "Survey",
    "/api/feedback/responses/{public_id}": "Response",
    "/api/feedback/services/{public_id}": "Service",
    "/api/desk/mail/inbound/{public_id}": "Inbound",
    "/api/desk/mail/routes/{public_id}": "Route",
    "/api/experience/xlas/{public_id}": "Xla",
    "/api/incidents/incidents/{public_id}": "Incident",
    "/api/incidents/steps/{public_id}": "RecoveryStep",
    "/api/incidents/subscriptions/{public_id}": "Subscription",
    "/api/incidents/subscriptions/deliveries/{public_id}": "WebhookDelivery",
    "/api/incidents/maintenance/{public_id}": "Maintenance",
    "/api/incidents/reviews/{public_id}": "Review",
    "/api/incidents/actions/{public_id}": "ReviewAction",
    "/api/incidents/{public_id}": "Incident",
}
# Body fields that name another object by its public id.
REFERENCE_FIELDS = {
    "service_manager": "User",
    "organisation": "Organisation",
    "sender_organisation": "Organisation",
    "offering": "Offering",
    "person": "Person",
    "requester": "Person",
    "assignee": "User",
    "team": "Team",
    "tickets": "Ticket",
    "service": "Service",
    "ticket": "Ticket",
    "owner": "User",
}
# Answer schemas whose objects are another resource than their name says.
SCHEMA_RESOURCES = {
    "MeOut": "User",
    "ManagerOut": "User",
    "IssuedTokenOut": "Token",
    "TicketDetailOut": "Ticket",
    "AttachmentContentOut": "Attachment",
    "RolePersonOut": "Person",
    "PersonRefOut": "Person",
    "ServiceRefOut": "Service",
    "OfferingRefOut": "Offering",
    "OrganisationRefOut": "Organisation",
    "InboundDetailOut": "Inbound",
    "ActiveTokenOut": "Token",
    "RouteServiceOut": "Service",
    "RouteOfferingOut": "Offering",
    "RouteOrganisationOut": "Organisation",
    "XlaOwnerOut": "User",
    "XlaRelationshipOut": "Relationship",
    "IncidentDetailOut": "Incident",
    "WebhookCreatedOut": "Subscription",
    "SubscribedServiceOut": "Service",
    "MaintenanceServiceOut": "Service",
    "MaintenanceOrganisationOut": "Organisation",
    "ReviewDetailOut": "Review",
    "ReviewIncidentOut": "Incident",
    "ReviewOwnerOut": "User",
    "TrustOrganisationOut": "Organisation",
    "TrustServiceOut": "Service",
    "TrustIncidentOut": "Incident",
    "TrustUserOut": "User",
}
# Operations that remove what later operations need: they run after all the others.
LAST = (
    "DELETE",
    "POST /api/accounts/tokens/{public_id}/revoke",
    # A resolved incident takes no more updates, plans, steps or ETAs.
    "POST /api/incidents/incidents/{public_id}/resolve",
)

WEBHOOK_SOURCE = "fuzz-hook"
WEBHOOK_SECRET = "fuzz-webhook-secret-0123456789abcdef"


@pytest.fixture(autouse=True)
def _keep_the_test_connection(db: Any) -> Iterator[None]:
    # A bare WSGIHandler closes old database connections around each request, which would close
    # the connection that holds the test's transaction; Django's test Client disconnects it too.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@dataclass
class Walk:
    """What one role has seen: the ids by resource (created ones apart, newest last) and the answers."""

    role: str
    token: str
    walk_token_ids: set[str]
    rng: random.Random
    listed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    created: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    succeeded: set[str] = field(default_factory=set)
    statuses: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    failures: list[str] = field(default_factory=list)
    requests: int = 0
    known: list[str] = field(default_factory=list)
    granted: tuple[str, str] | None = None  # (relationship, person) of the role the walk granted

    def ids(self, resource: str) -> list[str]:
        ids = [*reversed(self.created[resource]), *self.listed[resource]]
        if resource == "Token":
            # Revoking a token a walk signs in with would end that walk.
            ids = [i for i in ids if i not in self.walk_token_ids]
        return list(dict.fromkeys(ids))

    def pick(self, resource: str, newest: bool) -> str | None:
        ids = self.ids(resource)
        if not ids:
            return None
        return ids[0] if newest else self.rng.choice(ids)


def _seed_reviews(owner: User) -> None:
    """A draft review ready to complete (with an action) and a completed one to publish, until the
    demo set holds incidents of its own."""
    now = clock.now()
    for status in (Review.Status.DRAFT, Review.Status.COMPLETED):
        incident = make_incident(
            declared_at=now - timedelta(hours=5), owner=owner, status="resolved", resolved_at=now - timedelta(hours=2)
        )
        review = make_review(
            incident,
            due_at=now + timedelta(days=3),
            owner=owner,
            status=status,
            completed_at=now if status == Review.Status.COMPLETED else None,
            root_cause_category="configuration",
            customer_summary="A configuration change delayed mail.",
        )
        make_action(review, due_on=now.date() + timedelta(days=7), owner=owner)


def _seed() -> dict[str, Any]:
    """The demo set, plus what the operator operations act on; a token per role."""
    load_demo(seed=42)
    failed_mail = OutgoingMail.objects.create(
        message_id="<fuzz-failed@serviceloop.localhost>",
        to=["someone@example.org"],
        subject="Your ticket was resolved",
        text="Tell us how we did.",
        status=OutgoingMail.Status.FAILED,
        retry_until=clock.now(),
        last_error="ConnectionRefusedError: [Errno 111] Connection refused",
    )
    admin = User.objects.filter(role=User.Role.ADMINISTRATOR, is_active=True).order_by("pk").first()
    assert admin is not None, "the demo set has an administrator"
    event = event_record("tests.fuzz", subject=admin, by=admin, note="fuzz")
    failed_delivery = EventDelivery.objects.create(
        event=event, subscriber="tests.failing", status=EventDelivery.Status.FAILED
    )
    PostSource.objects.create(name=WEBHOOK_SOURCE, secret=WEBHOOK_SECRET)
    # A status webhook disabled after failures, with a failed delivery: what staff enable and retry.
    hook = Subscription.objects.create(
        kind=Subscription.Kind.WEBHOOK,
        url="https://93.184.216.34/hooks",
        owner_email="ops@example.org",
        confirmed_at=clock.now(),
        disabled_at=clock.now(),
    )
    WebhookDelivery.objects.create(
        subscription=hook,
        event_name="incident.update_posted",
        payload={"incident": {}},
        status=WebhookDelivery.Status.FAILED,
        created_at=clock.now(),
        source_event_id=event.pk,
    )
    _seed_reviews(admin)
    # A token of someone else for the administrator to revoke (a token cannot create tokens).
    customer = User.objects.filter(role=User.Role.CUSTOMER, is_active=True).order_by("-pk").first()
    assert customer is not None
    api_token_create(user=customer, name="spare")
    tokens = {}
    for role in ROLES:
        user = User.objects.filter(role=role, is_active=True).order_by("pk").first()
        assert user is not None, f"the demo set has a {role}"
        issued = api_token_create(user=user, name=f"fuzz {role}")
        tokens[role] = (issued.secret, issued.token.public_id, user)
    return {"tokens": tokens, "failed_mail": failed_mail, "failed_delivery": failed_delivery}


def _resource_of(schema_name: str) -> str:
    name = SCHEMA_RESOURCES.get(schema_name, schema_name)
    return name[: -len("Out")] if name.endswith("Out") else name


def _harvest(walk: Walk, value: Any, node: dict[str, Any], components: dict[str, Any], created: bool) -> None:
    """Record the public id of every object of a known schema in an answer."""
    for branch in node.get("anyOf", []):
        _harvest(walk, value, branch, components, created)
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        resolved = components.get(name, {})
        # Most objects name their id public_id; a stored inbound mail names it id.
        public_id = value.get("public_id", value.get("id")) if isinstance(value, dict) else None
        if isinstance(public_id, str):
            (walk.created if created else walk.listed)[_resource_of(name)].append(public_id)
            created = False  # nested objects were not created by this call
        _harvest(walk, value, resolved, components, created)
        return
    if isinstance(value, dict):
        for key, sub in node.get("properties", {}).items():
            if key in value:
                _harvest(walk, value[key], sub, components, created)
    elif isinstance(value, list) and "items" in node:
        for item in value[:50]:
            _harvest(walk, item, node["items"], components, False)


def _fill_references(walk: Walk, body: Any) -> Any:
    """Put known ids into the reference fields of a drawn body (a string where an id belongs)."""
    if not isinstance(body, dict):
        return body
    for key, resource in REFERENCE_FIELDS.items():
        if key not in body:
            continue
        if key == "tickets" and isinstance(body[key], list):
            body[key] = [i for i in [walk.pick("Ticket", newest=False)] if i]
        elif isinstance(body[key], str):
            body[key] = walk.pick(resource, newest=False) or body[key]
    return body


def _path_parameters(walk: Walk, operation: Any, newest: bool) -> dict[str, str] | None:
    path = operation.path
    if "{public_id}" not in path:
        return {}
    prefix = path[: path.index("{public_id}") + len("{public_id}")]
    assert prefix in PATH_RESOURCES, f"{prefix}: add the resource it names to PATH_RESOURCES"
    chosen = walk.pick(PATH_RESOURCES[prefix], newest=newest)
    return None if chosen is None else {"public_id": chosen}


Example = dict[str, Any]  # keyword arguments of a schemathesis Case, plus "headers"


def _signed_webhook(walk: Walk) -> Example:
    post = {"external_id": f"fuzz-{walk.role}", "text": "The desk was quick", "posted_at": "2026-11-24T10:00:00Z"}
    body = json.dumps({"posts": [post]}).encode()
    signature = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-Serviceloop-Source": WEBHOOK_SOURCE, "X-Serviceloop-Signature": signature}
    return {"body": body, "headers": headers, "media_type": "application/json"}


def _inbound_mail(walk: Walk) -> Example:
    ticket = Ticket.objects.select_related("requester").exclude(requester=None).order_by("pk").first()
    assert ticket is not None and ticket.requester is not None
    mail = (
        f"From: {ticket.requester.email}\r\nTo: desk@serviceloop.localhost\r\n"
        f"Subject: Re: [{ticket.reference}] {ticket.subject}\r\n"
        f"Message-ID: <fuzz-{walk.role}@example.org>\r\n\r\nThanks, that helped.\r\n"
    )
    # Mail servers send message/rfc822; the document declares octet-stream, which tools can send.
    return {"body": mail.encode(), "media_type": "application/octet-stream"}


def _ingest_batch(walk: Walk) -> Example:
    service = walk.pick("Service", newest=False) or ""
    lines = [
        json.dumps({"source": "fuzz", "external_id": f"fuzz-{walk.role}-{n}", "service": service, "happiness": n})
        for n in range(3)
    ]
    return {"body": "\n".join(lines).encode(), "media_type": "application/x-ndjson"}


def _role_grant(walk: Walk) -> Example | None:
    # The person must be of the relationship's organisation: the one pairing a schema cannot tell.
    for public_id in walk.ids("Relationship")[:5]:
        relationship = Relationship.objects.filter(public_id=public_id).first()
        person = (
            relationship and Person.objects.filter(organisation=relationship.organisation_id).order_by("pk").first()
        )
        if relationship and person:
            walk.granted = (relationship.public_id, person.public_id)
            return {
                "path_parameters": {"public_id": relationship.public_id},
                "body": {"person": person.public_id, "role": "sponsor"},
            }
    return None


def _role_revoke(walk: Walk) -> Example | None:
    if walk.granted is None:
        return None
    relationship, person = walk.granted
    return {"path_parameters": {"public_id": relationship}, "body": {"person": person, "role": "sponsor"}}


def _bulk(walk: Walk) -> Example | None:
    tickets = walk.ids("Ticket")[:3]
    if not tickets:
        return None
    return {"body": {"tickets": tickets, "action": "status", "status": "waiting_third_party"}}


def _webhook_create(walk: Walk) -> Example:
    # A public address (no name to resolve): the check refuses private ones and anything random.
    return {"body": {"url": "https://93.184.216.34/hooks", "owner_email": "ops@example.org", "services": []}}


def _webhook_enable(walk: Walk) -> Example | None:
    hook = Subscription.objects.filter(kind=Subscription.Kind.WEBHOOK, disabled_at__isnull=False).first()
    return None if hook is None else {"path_parameters": {"public_id": hook.public_id}}


def _webhook_retry(walk: Walk) -> Example | None:
    failed = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED).first()
    return None if failed is None else {"path_parameters": {"public_id": failed.public_id}}


def _maintenance_schedule(walk: Walk) -> Example | None:
    # A window is refused unless it lies ahead and ends after it starts: a pairing of two times.
    services = walk.ids("Service")
    if not services:
        return None
    start = clock.now() + timedelta(days=1, minutes=walk.rng.randrange(1000))
    return {
        "body": {
            "title": f"Fuzz maintenance {walk.role}",
            "services": services[:1],
            "scheduled_for": start.isoformat(),
            "scheduled_until": (start + timedelta(hours=2)).isoformat(),
        }
    }


def _scheduled_window(walk: Walk) -> str | None:
    # Start and complete run before cancel and a new update: by then the walk's own window is over,
    # so these two get a window that has not started, planned through the service.
    service = Service.objects.filter(public_id__in=walk.ids("Service")[:1]).first()
    by = User.objects.filter(role=User.Role.ADMINISTRATOR, is_active=True).order_by("pk").first()
    if service is None or by is None:
        return None
    start = clock.now() + timedelta(days=2, minutes=walk.rng.randrange(1000))
    window = maintenance_schedule(
        by=by, title="Fuzz window", services=[service], scheduled_for=start, scheduled_until=start + timedelta(hours=1)
    )
    return window.public_id


def _maintenance_cancel(walk: Walk) -> Example | None:
    public_id = _scheduled_window(walk)
    return None if public_id is None else {"path_parameters": {"public_id": public_id}, "body": {"body": "Postponed"}}


def _maintenance_update(walk: Walk) -> Example | None:
    public_id = _scheduled_window(walk)
    return None if public_id is None else {"path_parameters": {"public_id": public_id}, "body": {"body": "On track"}}


def _trust_pair(walk: Walk) -> Example | None:
    # Trust's paths name a pair (organisation and service), not one {public_id}: a pair that has a state.
    state = TrustState.objects.select_related("organisation", "service").order_by("trust", "pk").first()
    if state is None:
        return None
    return {"path_parameters": {"organisation": state.organisation.public_id, "service": state.service.public_id}}


def _trust_sharing(walk: Walk) -> Example | None:
    organisation = walk.pick("Organisation", newest=False)
    if organisation is None:
        return None
    return {"path_parameters": {"organisation": organisation}, "body": {"shown_in_portal": True}}


def _trust_simulate(walk: Walk) -> Example:
    events = [{"at": "2026-01-05", "kind": "week_met"}, {"at": "2026-01-12", "kind": "small_failure"}]
    return {"body": {"events": events, "at": ["2026-02-01"]}}


def _trust_parameters(walk: Walk) -> Example:
    # The defaults' own value: a new version that changes no figure (every state is computed again).
    return {"body": {"values": {"negativity": 3.0}, "note": f"Fuzz {walk.role}"}}


# Operations whose valid bodies a schema cannot describe (raw mail, NDJSON, a signature, a pairing):
# a hand-written example from the seeded data goes first, then the drawn ones.
HAND_WRITTEN: dict[str, Callable[[Walk], Example | None]] = {
    "POST /api/feedback/posts/webhook": _signed_webhook,
    "POST /api/desk/mail/inbound": _inbound_mail,
    "POST /api/feedback/ingest/batch": _ingest_batch,
    "POST /api/relationships/relationships/{public_id}/roles": _role_grant,
    "POST /api/relationships/relationships/{public_id}/roles/revoke": _role_revoke,
    "POST /api/desk/bulk": _bulk,
    "POST /api/incidents/subscriptions/webhooks": _webhook_create,
    "POST /api/incidents/subscriptions/{public_id}/enable": _webhook_enable,
    "POST /api/incidents/subscriptions/deliveries/{public_id}/retry": _webhook_retry,
    "POST /api/incidents/maintenance": _maintenance_schedule,
    "POST /api/incidents/maintenance/{public_id}/cancel": _maintenance_cancel,
    "POST /api/incidents/maintenance/{public_id}/updates": _maintenance_update,
    "GET /api/experience/trust/states/{organisation}/{service}": _trust_pair,
    "GET /api/experience/trust/states/{organisation}/{service}/evidence": _trust_pair,
    "PUT /api/experience/trust/sharing/{organisation}": _trust_sharing,
    "POST /api/experience/trust/simulate": _trust_simulate,
    "POST /api/experience/trust/parameters": _trust_parameters,
}

# The first drawn body of each operation gets these values for the fields its schema has: values a
# person would send, where a random string is all but sure to be refused (a time zone, a date).
PLAUSIBLE: dict[str, Callable[[Walk], Any]] = {
    "time_zone": lambda walk: "Europe/Paris",
    "email": lambda walk: f"fuzz-{walk.role}-{walk.rng.randrange(10**6)}@example.org",
    "name": lambda walk: f"Fuzz {walk.role} {walk.rng.randrange(10**6)}",
    "external_id": lambda walk: f"fuzz-{walk.role}-{walk.rng.randrange(10**6)}",
    "source": lambda walk: "fuzz",
    "started_on": lambda walk: clock.now().date().isoformat(),
    "posted_at": lambda walk: "2026-11-24T10:00:00Z",
    "responded_at": lambda walk: None,
    "role": lambda walk: "user",
    "happiness": lambda walk: 8,
    "csat": lambda walk: None,
    "nps": lambda walk: None,
    "ces": lambda walk: None,
    "lost_time": lambda walk: None,
    "drivers": lambda walk: [],
    "person_email": lambda walk: None,
    "subject": lambda walk: "Cannot send mail",
    "body": lambda walk: "Since this morning every mail bounces.",
    "text": lambda walk: "The desk answered within minutes",
    "reason": lambda walk: "It broke again",
    "resolution": lambda walk: "Raised the quota",
    "attachments": lambda walk: [
        {"filename": "error.txt", "content_type": "text/plain", "content_base64": "UXVvdGEgZXhjZWVkZWQ="}
    ],
    # Incidents: a public SEV1 on a known service, with every audience, so its plans and steps can follow.
    "title": lambda walk: f"Fuzz {walk.role} incident",
    "severity": lambda walk: "sev1",
    "visibility": lambda walk: "public",
    "services": lambda walk: [{"service": walk.pick("Service", newest=False) or "", "status": "major_outage"}],
    "offerings": lambda walk: [],
    "organisations": lambda walk: None,
    "audiences": lambda walk: ["internal", "customers", "public"],
    "component_statuses": lambda walk: [],
    "impact_started_at": lambda walk: None,
    "next_update_at": lambda walk: None,
    "resolved_at": lambda walk: None,
    "impact_ended_at": lambda walk: None,
    "owner": lambda walk: None,
    "comms_lead": lambda walk: None,
    "calendar": lambda walk: None,
    "eta": lambda walk: None,
    "eta_confidence": lambda walk: "",
    "confidence": lambda walk: "",
    "customer_facing": lambda walk: True,
}


def _body_schema(operation: Any, components: dict[str, Any]) -> dict[str, Any]:
    content = operation.definition.raw.get("requestBody", {}).get("content", {})
    node = content.get("application/json", {}).get("schema", {})
    if "$ref" in node:
        node = components.get(node["$ref"].rsplit("/", 1)[-1], {})
    return node


def _plausible(walk: Walk, operation: Any, body: Any, components: dict[str, Any]) -> Any:
    node = _body_schema(operation, components)
    if not isinstance(body, dict) or "properties" not in node:
        return body
    required = set(node.get("required", []))
    for key, prop in node["properties"].items():
        nullable = any(branch.get("type") == "null" for branch in prop.get("anyOf", []))
        if key in PLAUSIBLE:
            body[key] = PLAUSIBLE[key](walk)
        elif key in REFERENCE_FIELDS and key not in required and nullable:
            body[key] = None  # an optional reference drawn at random rarely belongs with the others
        elif key in REFERENCE_FIELDS:
            body[key] = walk.pick(REFERENCE_FIELDS[key], newest=False) or body.get(key, "")
            if key == "tickets":
                body[key] = [body[key]]
    return body


# Defects the fuzz finds that are being fixed elsewhere: operation → (a predicate on the case, the
# issue that fixes it). Each is expected to fail only for the input it names, so any other failure of
# the same operation still fails the test. Remove an entry when its fix is merged. Empty is the goal.
KNOWN_DEFECTS: dict[str, tuple[Callable[[Any], bool], str]] = {}


def _known_defect(key: str, case: Any) -> str | None:
    if key in KNOWN_DEFECTS and KNOWN_DEFECTS[key][0](case):
        return KNOWN_DEFECTS[key][1]
    return None


def _record(walk: Walk, key: str, case: Any, response: Any, components: dict[str, Any]) -> None:
    walk.requests += 1
    walk.statuses[key].add(response.status_code)
    if 200 <= response.status_code < 300:
        walk.succeeded.add(key)
        try:
            payload = response.json()
        except ValueError:
            return
        answer = case.operation.definition.raw["responses"].get(str(response.status_code), {})
        answer_schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
        _harvest(walk, payload, answer_schema, components, created=response.status_code in (201, 202))


def _call(walk: Walk, key: str, case: Any, components: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    all_headers = {**(headers or {}), "Authorization": f"Bearer {walk.token}"}
    try:
        response = case.call(headers=all_headers)
    except Exception as error:  # the request could not be sent or the app raised: report it with the case
        walk.failures.append(f"{walk.role} {key}: {type(error).__name__}: {error}\n  {case.body!r:.300}")
        return
    try:
        case.validate_response(response, checks=CHECKS)
    except (Exception, BaseExceptionGroup) as error:  # schemathesis reports several failures as a group
        known = _known_defect(key, case)
        if known:
            walk.known.append(f"{walk.role} {key}: {known}")
        else:
            walk.failures.append(f"{walk.role} {key}: {str(error)[:1500]}")
    _record(walk, key, case, response, components)


def _draw(walk: Walk, key: str, operation: Any, mode: GenerationMode, count: int, components: dict[str, Any]) -> None:
    first = [True]
    plausible = [mode == GenerationMode.POSITIVE]

    def run(case: Any) -> None:
        parameters = _path_parameters(walk, operation, newest=first[0])
        first[0] = False
        if parameters is None:
            return
        case.path_parameters = {**(case.path_parameters or {}), **parameters}
        if mode == GenerationMode.POSITIVE:
            # Half the later drawn bodies keep their drawn references ("", an unknown id): those must
            # be refused with a 4xx, and filling them all would hide such answers.
            if plausible[0] or walk.rng.random() < 0.5:
                case.body = _fill_references(walk, case.body)
            if plausible[0]:
                case.body = _plausible(walk, operation, case.body, components)
        plausible[0] = False
        _call(walk, key, case, components)

    # Failures are collected, not raised: no shrinking, so the run time stays bounded.
    wrapped = settings(
        max_examples=count,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )(given(case=operation.as_strategy(generation_mode=mode))(run))
    wrapped()


def _operations() -> list[Any]:
    operations = [result.ok() for result in schema.get_all_operations()]

    def last(operation: Any) -> bool:
        key = f"{operation.method.upper()} {operation.path}"
        return operation.method.upper() in LAST or key in LAST

    return [op for op in operations if not last(op)] + [op for op in operations if last(op)]


def _walk_as(walk: Walk, operations: list[Any], components: dict[str, Any]) -> None:
    for operation in operations:
        key = f"{operation.method.upper()} {operation.path}"
        example = HAND_WRITTEN[key](walk) if key in HAND_WRITTEN else None
        if example is not None:
            headers = example.pop("headers", {})
            _call(walk, key, operation.Case(**example), components, headers=headers)
        _draw(walk, key, operation, GenerationMode.POSITIVE, EXAMPLES, components)
        _draw(walk, key, operation, GenerationMode.NEGATIVE, max(1, EXAMPLES // 2), components)


def test_the_api_on_demo_data_as_every_role(capsys: Any) -> None:
    seeded = _seed()
    operations = _operations()
    components = schema.raw_schema["components"]["schemas"]
    walks = []
    walk_tokens = {token_id for _, token_id, _ in seeded["tokens"].values()}
    for index, role in enumerate(ROLES):
        secret, _, user = seeded["tokens"][role]
        walk = Walk(role=role, token=secret, walk_token_ids=walk_tokens, rng=random.Random(SEED + index))
        walk.listed["User"].append(user.public_id)
        # The operator sees failed mail and deliveries on the operations page (the API gives counts).
        walk.listed["Mail"].append(seeded["failed_mail"].public_id)
        walk.listed["Delivery"].append(seeded["failed_delivery"].public_id)
        _walk_as(walk, operations, components)
        walks.append(walk)

    keys = [f"{op.method.upper()} {op.path}" for op in operations]
    succeeded = set().union(*(walk.succeeded for walk in walks))
    missed = [key for key in keys if key not in succeeded]
    with capsys.disabled():
        print(f"\nAPI fuzz on the demo data: {len(succeeded & set(keys))} of {len(keys)} operations answered a 2xx")
        for walk in walks:
            answers = sum(len(statuses) for statuses in walk.statuses.values())
            print(
                f"  as {walk.role}: {len(walk.succeeded)} operations answered a 2xx ({walk.requests} requests, {answers} distinct answers)"
            )
        for key in missed:
            seen = sorted(set().union(*(walk.statuses[key] for walk in walks)))
            print(f"  no 2xx: {key} (answered {seen})")
        known = [entry for walk in walks for entry in walk.known]
        if known:
            print(f"  known defects met (expected to fail, fixed elsewhere): {len(known)}")
            for entry in sorted(set(known)):
                print(f"    {entry}")
    failures = [failure for walk in walks for failure in walk.failures]
    assert not failures, f"{len(failures)} answers broke the contract:\n" + "\n".join(failures[:20])
    coverage = len(succeeded & set(keys)) / len(keys)
    assert coverage >= MINIMUM_COVERAGE, f"only {coverage:.0%} of operations answered a 2xx; missed: {missed}"
