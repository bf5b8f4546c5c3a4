"""Authorisation rows for the feedback surveys pages and API (merged by tests/authz.py).

The signed-link pages are public: the token is the credential, whoever holds it.
"""

from __future__ import annotations

from django.utils.text import slugify

from serviceloop.catalogue.models import Service
from serviceloop.core.authz_matrix import (
    ANY_USER_API,
    MANAGER_PAGE,
    ORG_A_API,
    PUBLIC_PAGE,
    STAFF_API,
    STAFF_PAGE,
    Endpoint,
    Page,
    World,
    expect,
    manager_post,
)
from serviceloop.desk.models import Ticket
from serviceloop.feedback import links
from serviceloop.feedback.models import SuppressedInvitation, Trigger
from serviceloop.feedback.services.invitations import invitation_create
from serviceloop.feedback.services.responses import response_answer_link
from serviceloop.feedback.services.surveys import survey_create
from serviceloop.relationships.models import Person

MANAGER_API = expect(anonymous=401, customer_a=403, agent=403, manager=200)
MANAGER_CREATES = expect(anonymous=401, customer_a=403, agent=403, manager=201)
STAFF_CREATES = expect(anonymous=401, customer_a=403, agent=201)


def build(world: World) -> None:
    manager = world.users["manager"]
    service = Service.objects.create(
        name="Feedback Payroll", slug=slugify("fb-payroll"), service_manager=manager, lifecycle="live"
    )
    person = Person.objects.create(organisation=world.org_a, email="fb-pat@acme.example", name="Pat")
    world.fb_fresh_person = Person.objects.create(organisation=world.org_a, email="fb-new@acme.example")
    ticket = Ticket.objects.create(
        reference="SL-FB-1",
        organisation=world.org_a,
        requester=person,
        service=service,
        subject="Payslip missing",
        opened_at="2026-11-01T09:00:00Z",
        status=Ticket.Status.RESOLVED,
    )
    world.fb_service = service
    world.fb_survey = survey_create(service=service, name="After a ticket", by=manager)
    outcome = invitation_create(person=person, service=service, ticket=ticket, trigger=Trigger.TICKET_RESOLVED)
    assert outcome.invitation is not None
    world.fb_invitation = outcome.invitation
    world.fb_response = response_answer_link(invitation=outcome.invitation, score=9)
    SuppressedInvitation.objects.create(
        person=person, organisation=world.org_a, service=service, trigger=Trigger.API, reason="throttled"
    )


TO_SURVEY = manager_post("feedback:survey_detail")


def _survey_form(world: World, name: str, kind: str = "transactional") -> dict[str, object]:
    return {
        "name": name,
        "service": world.fb_service.pk,
        "kind": kind,
        "is_active": "on",
        "score_kind": "happiness",
        "ask_comment": "on",
    }


def _token(world: World) -> dict[str, str]:
    return {"token": links.token_for(world.fb_invitation.public_id)}


PAGES = [
    Page(
        "feedback:survey_answer", PUBLIC_PAGE, kwargs=lambda w: {"token": links.token_for(w.fb_invitation.public_id, 8)}
    ),
    # HEAD (a mail scanner checking the link) records nothing and still answers 200.
    Page(
        "feedback:survey_answer",
        PUBLIC_PAGE,
        kwargs=lambda w: {"token": links.token_for(w.fb_invitation.public_id, 8)},
        method="HEAD",
    ),
    Page("feedback:survey_page", PUBLIC_PAGE, kwargs=_token),
    Page("feedback:survey_page", PUBLIC_PAGE, kwargs=_token, method="POST", data=lambda w: {"comment": "Friendly."}),
    Page(
        "feedback:survey_field",
        PUBLIC_PAGE,
        kwargs=lambda w: {**_token(w), "field": "comment"},
        method="POST",
        data=lambda w: {"comment": "Quick and friendly."},
    ),
    Page(
        "feedback:survey_confirm",
        PUBLIC_PAGE,
        kwargs=_token,
        method="POST",
        data=lambda w: {"score": "8"},
    ),
    Page("feedback:survey_opt_out", PUBLIC_PAGE, kwargs=_token),
    Page("feedback:survey_opt_out", PUBLIC_PAGE, kwargs=_token, method="POST"),
    Page("feedback:home", STAFF_PAGE),
    Page("feedback:service_stream", STAFF_PAGE, kwargs=lambda w: {"public_id": w.fb_service.public_id}),
    Page("feedback:suppressed_list", STAFF_PAGE),
    Page("feedback:suppressed_list", STAFF_PAGE, query="reason=throttled&q=pat"),
    Page("feedback:survey_list", STAFF_PAGE),
    Page("feedback:survey_detail", STAFF_PAGE, kwargs=lambda w: {"public_id": w.fb_survey.public_id}),
    Page("feedback:survey_email_preview", STAFF_PAGE, kwargs=lambda w: {"public_id": w.fb_survey.public_id}),
    Page("feedback:survey_create", MANAGER_PAGE),
    Page(
        "feedback:survey_create", TO_SURVEY, method="POST", data=lambda w: _survey_form(w, "Yearly NPS", "relationship")
    ),
    Page("feedback:survey_edit", MANAGER_PAGE, kwargs=lambda w: {"public_id": w.fb_survey.public_id}),
    Page(
        "feedback:survey_edit",
        TO_SURVEY,
        kwargs=lambda w: {"public_id": w.fb_survey.public_id},
        method="POST",
        data=lambda w: _survey_form(w, "After a resolved ticket"),
    ),
]

ENDPOINTS = [
    Endpoint("GET", "/api/feedback/surveys", STAFF_API),
    Endpoint(
        "POST",
        "/api/feedback/surveys",
        MANAGER_CREATES,
        body=lambda w: {"name": "Yearly NPS", "service": w.fb_service.public_id, "kind": "relationship"},
    ),
    Endpoint(
        "GET", "/api/feedback/surveys/{public_id}", STAFF_API, params=lambda w: {"public_id": w.fb_survey.public_id}
    ),
    Endpoint(
        "PATCH",
        "/api/feedback/surveys/{public_id}",
        MANAGER_API,
        params=lambda w: {"public_id": w.fb_survey.public_id},
        body=lambda w: {"name": "After a resolved ticket"},
    ),
    Endpoint("GET", "/api/feedback/responses", ANY_USER_API),
    Endpoint(
        "GET", "/api/feedback/responses/{public_id}", ORG_A_API, params=lambda w: {"public_id": w.fb_response.public_id}
    ),
    Endpoint(
        "POST",
        "/api/feedback/invitations",
        STAFF_CREATES,
        body=lambda w: {"person": w.fb_fresh_person.public_id, "service": w.fb_service.public_id},
    ),
    Endpoint("GET", "/api/feedback/suppressed-invitations", STAFF_API),
    Endpoint(
        "GET",
        "/api/feedback/services/{public_id}/throttle",
        STAFF_API,
        params=lambda w: {"public_id": w.fb_service.public_id},
    ),
    Endpoint(
        "PUT",
        "/api/feedback/services/{public_id}/throttle",
        MANAGER_API,
        params=lambda w: {"public_id": w.fb_service.public_id},
        body=lambda w: {"sample_rate": 80},
    ),
]
