"""Survey designs: versions that keep old answers' meaning, validation, and the surveys API."""

from __future__ import annotations

from typing import Any

import pytest

from serviceloop.accounts.testing import api_client_for
from serviceloop.core.errors import ConflictError, InvalidInput
from serviceloop.feedback.models import SurveyVersion
from serviceloop.feedback.services.responses import response_record
from serviceloop.feedback.services.surveys import survey_create, survey_current_version, survey_update
from serviceloop.feedback.tests.survey_factories import make_service

CSAT_ONLY = [{"kind": "csat", "text": "Satisfied?"}, {"kind": "comment", "text": "Why?"}]


@pytest.fixture
def payroll(sam: Any) -> Any:
    return make_service("Payroll", sam)


def test_editing_a_survey_with_answers_makes_a_new_version(payroll: Any, sam: Any) -> None:
    survey = survey_create(service=payroll, name="After a ticket", by=sam)
    first = survey_current_version(survey)
    response_record(service=payroll, survey_version=first, happiness=9)
    survey_update(survey=survey, questions=CSAT_ONLY, by=sam)
    versions = list(SurveyVersion.objects.filter(survey=survey).order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].score_kind == "happiness" and versions[1].score_kind == "csat"


def test_editing_an_unused_survey_changes_its_version_in_place(payroll: Any, sam: Any) -> None:
    survey = survey_create(service=payroll, name="After a ticket", by=sam)
    survey_update(survey=survey, questions=CSAT_ONLY, by=sam)
    assert list(survey.versions.values_list("number", flat=True)) == [1]
    assert survey_current_version(survey).score_kind == "csat"


def test_the_first_question_must_be_a_score(payroll: Any, sam: Any) -> None:
    with pytest.raises(InvalidInput, match="first question must be a score") as refused:
        survey_create(service=payroll, name="Odd", questions=[{"kind": "comment"}], by=sam)
    assert refused.value.field == "questions"


def test_a_service_has_one_active_survey_of_a_kind(payroll: Any, sam: Any) -> None:
    survey_create(service=payroll, name="One", by=sam)
    with pytest.raises(ConflictError):
        survey_create(service=payroll, name="Two", by=sam)


def test_manager_creates_a_survey_through_the_api(payroll: Any, sam: Any) -> None:
    created = api_client_for(sam).post(
        "/api/feedback/surveys",
        {"name": "Quick CSAT", "service": payroll.public_id, "questions": CSAT_ONLY},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["questions"][0] == {"kind": "csat", "text": "Satisfied?", "required": True}


def test_agent_may_read_but_not_change_surveys(payroll: Any, sam: Any, alex: Any) -> None:
    survey = survey_create(service=payroll, name="After a ticket", by=sam)
    client = api_client_for(alex)
    assert client.get(f"/api/feedback/surveys/{survey.public_id}").status_code == 200
    refused = client.patch(
        f"/api/feedback/surveys/{survey.public_id}", {"name": "Mine"}, content_type="application/json"
    )
    assert refused.status_code == 403


def test_api_refuses_a_survey_without_a_score_first(payroll: Any, sam: Any) -> None:
    refused = api_client_for(sam).post(
        "/api/feedback/surveys",
        {"name": "Odd", "service": payroll.public_id, "questions": [{"kind": "comment"}]},
        content_type="application/json",
    )
    assert refused.status_code == 422
    assert refused.json()["field"] == "questions"


def test_api_patch_of_a_survey_in_use_answers_the_new_version(payroll: Any, sam: Any) -> None:
    survey = survey_create(service=payroll, name="After a ticket", by=sam)
    response_record(service=payroll, survey_version=survey_current_version(survey), happiness=9)
    changed = api_client_for(sam).patch(
        f"/api/feedback/surveys/{survey.public_id}", {"questions": CSAT_ONLY}, content_type="application/json"
    )
    assert changed.json()["version"] == 2


def test_throttle_policy_is_readable_and_changeable_through_the_api(payroll: Any, sam: Any) -> None:
    client = api_client_for(sam)
    url = f"/api/feedback/services/{payroll.public_id}/throttle"
    assert client.get(url).json()["relationship_days"] == 90
    body = {**client.get(url).json(), "sample_rate": 50}
    assert client.put(url, body, content_type="application/json").json()["sample_rate"] == 50
    bad = client.put(url, {**body, "sample_rate": 150}, content_type="application/json")
    assert bad.status_code == 422


def test_the_designers_preview_shows_the_subject_the_mail_is_sent_with(sam: Any, org_a: Any) -> None:
    from django.test import Client
    from django.urls import reverse

    from serviceloop.core.models import OutgoingMail
    from serviceloop.feedback.tests.survey_factories import make_person, make_ticket, resolve

    payroll = make_service("Payroll", sam)
    survey = survey_create(service=payroll, name="After a ticket", by=sam)
    client = Client()
    client.force_login(sam)
    page = client.get(reverse("feedback:survey_detail", args=[survey.public_id])).content.decode()
    assert "How did we do? Payroll [SL-104233]" in page
    ticket = resolve(make_ticket(payroll, make_person(org_a)))
    sent = OutgoingMail.objects.get(subject__startswith="How did we do?")
    assert sent.subject == f"How did we do? Payroll [{ticket.reference}]"


def test_the_preview_says_a_ticket_survey_arrives_inside_the_resolution_notice(sam: Any, settings: Any) -> None:
    from django.test import Client
    from django.urls import reverse

    survey = survey_create(service=make_service("Payroll", sam), name="After a ticket", by=sam)
    client = Client()
    client.force_login(sam)
    url = reverse("feedback:survey_detail", args=[survey.public_id])
    page = client.get(url).content.decode()
    assert 'id="inside-notice"' in page and "Subject when sent alone:" in page
    settings.SERVICELOOP_MAIL_NOTIFY = False  # no notices: the invitation is the mail, as previewed
    page = client.get(url).content.decode()
    assert 'id="inside-notice"' not in page and "<strong>Subject:</strong>" in page
