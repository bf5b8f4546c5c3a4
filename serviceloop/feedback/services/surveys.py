"""Survey designs and their versions, and the per-service throttle policy."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.errors import ConflictError, InvalidInput, NotAllowed
from serviceloop.feedback.models import Invitation, Response, Survey, SurveyKind, SurveyVersion, ThrottlePolicy
from serviceloop.feedback.questions import default_questions, validate_questions
from serviceloop.feedback.throttle import Policy

MAX_NAME = 200


def _require_manager(by: User | None) -> None:
    if by is not None and not by.can_manage_services:
        raise NotAllowed("forbidden", "Only service managers and administrators change surveys.")


def _check_offering(service: Service, offering: Offering | None) -> None:
    if offering is not None and offering.service_id != service.pk:
        raise InvalidInput("offering_of_other_service", "The offering belongs to another service.", field="offering")


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name_required", "A survey needs a name.", field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput("name_too_long", f"A name has at most {MAX_NAME} characters.", field="name")
    return name


def survey_create(
    *,
    service: Service,
    name: str,
    by: User | None,
    kind: str = SurveyKind.TRANSACTIONAL,
    offering: Offering | None = None,
    questions: list[dict[str, Any]] | None = None,
    intro: str = "",
    is_active: bool = True,
) -> Survey:
    """A new survey with its first version (the default questions of its kind when none are given)."""
    _require_manager(by)
    _check_offering(service, offering)
    if kind not in SurveyKind.values:
        raise InvalidInput("unknown_kind", "A survey is transactional or relationship.", field="kind")
    clean = validate_questions(questions if questions is not None else default_questions(kind))
    try:
        with transaction.atomic():
            survey = Survey.objects.create(
                service=service,
                offering=offering,
                name=_clean_name(name),
                kind=kind,
                is_active=is_active,
                created_by=by,
            )
            SurveyVersion.objects.create(survey=survey, number=1, questions=clean, intro=intro.strip(), created_by=by)
    except IntegrityError as error:
        raise ConflictError(
            "active_survey_exists",
            "This service (or offering) already has an active survey of that kind; deactivate it first.",
            field="is_active",
        ) from error
    return survey


def survey_current_version(survey: Survey) -> SurveyVersion:
    return survey.versions.order_by("-number").first() or SurveyVersion.objects.create(
        survey=survey, number=1, questions=default_questions(survey.kind)
    )


def version_is_in_use(version: SurveyVersion) -> bool:
    """Answers (or invitations already out, whose buttons and page must keep their meaning) freeze a version."""
    return (
        Response.objects.filter(survey_version=version).exists()
        or Invitation.objects.filter(survey_version=version).exists()
    )


def survey_update(
    *,
    survey: Survey,
    by: User | None,
    name: str | None = None,
    is_active: bool | None = None,
    questions: list[dict[str, Any]] | None = None,
    intro: str | None = None,
) -> Survey:
    """Change a survey; new questions on a version in use make a new version, so old answers keep their meaning."""
    _require_manager(by)
    try:
        with transaction.atomic():
            survey = Survey.objects.select_for_update().get(pk=survey.pk)
            if name is not None:
                survey.name = _clean_name(name)
            if is_active is not None:
                survey.is_active = is_active
            survey.save()
            if questions is not None or intro is not None:
                _revise(survey=survey, by=by, questions=questions, intro=intro)
    except IntegrityError as error:
        raise ConflictError(
            "active_survey_exists",
            "This service (or offering) already has an active survey of that kind; deactivate it first.",
            field="is_active",
        ) from error
    return survey


def _revise(*, survey: Survey, by: User | None, questions: list[dict[str, Any]] | None, intro: str | None) -> None:
    current = survey_current_version(survey)
    clean = validate_questions(questions) if questions is not None else current.questions
    new_intro = intro.strip() if intro is not None else current.intro
    if clean == current.questions and new_intro == current.intro:
        return
    if version_is_in_use(current):
        SurveyVersion.objects.create(
            survey=survey, number=current.number + 1, questions=clean, intro=new_intro, created_by=by
        )
    else:
        current.questions = clean
        current.intro = new_intro
        current.save(update_fields=["questions", "intro", "updated_at"])


def throttle_policy_of(service: Service) -> Policy:
    row = ThrottlePolicy.objects.filter(service=service).first()
    if row is None:
        return Policy()
    return Policy(
        transactional_short_limit=row.transactional_short_limit,
        transactional_short_days=row.transactional_short_days,
        transactional_long_limit=row.transactional_long_limit,
        transactional_long_days=row.transactional_long_days,
        relationship_limit=row.relationship_limit,
        relationship_days=row.relationship_days,
        min_gap_hours=row.min_gap_hours,
        sample_rate=row.sample_rate,
    )


THROTTLE_FIELDS = (
    "transactional_short_limit",
    "transactional_short_days",
    "transactional_long_limit",
    "transactional_long_days",
    "relationship_limit",
    "relationship_days",
    "min_gap_hours",
    "sample_rate",
)


def throttle_policy_set(*, service: Service, by: User | None, **values: int) -> ThrottlePolicy:
    """Change a service's fatigue rules; fields not given keep their value (DOMAIN §3 defaults at first)."""
    _require_manager(by)
    for field, value in values.items():
        if field not in THROTTLE_FIELDS:
            raise InvalidInput("unknown_field", f"Unknown throttle setting '{field}'.", field=field)
        if not isinstance(value, int) or value < 0 or value > 1000:
            raise InvalidInput("out_of_range", f"{field} must be a whole number from 0 to 1000.", field=field)
    if values.get("sample_rate", 0) > 100:
        raise InvalidInput("out_of_range", "The sample rate is a percentage, 0 to 100.", field="sample_rate")
    for field in ("transactional_short_days", "transactional_long_days", "relationship_days"):
        if field in values and values[field] < 1:
            raise InvalidInput("out_of_range", "Each throttle window is at least one day.", field=field)
    with transaction.atomic():
        policy, _ = ThrottlePolicy.objects.select_for_update().get_or_create(service=service)
        for field, value in values.items():
            setattr(policy, field, value)
        policy.save()
    return policy
