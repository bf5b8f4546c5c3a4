"""Every write to relationships: organisations, people, relationships and the roles people hold.

Each change to a relationship (started, paused, resumed, ended, a role granted or revoked, notes)
writes a `RelationshipEvent` in the same transaction: the relationship's service history. Every
write also records its event in the audit trail (`core.events`: who, which row, which fields).
Organisations, people and relationships carry a version (`accounts.versioning`): an edit made on
an earlier version is refused with 412 instead of reverting the one in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.services import KEEP, validate_time_zone
from serviceloop.accounts.services import organisation_create as accounts_organisation_create
from serviceloop.accounts.services import organisation_update as accounts_organisation_update
from serviceloop.accounts.versioning import version_check, version_claim
from serviceloop.catalogue.models import Offering
from serviceloop.core import clock
from serviceloop.core.errors import ConflictError, InvalidInput, NotAllowed
from serviceloop.core.events import event_record
from serviceloop.core.schemas import EARLIEST_DATE
from serviceloop.relationships.models import Person, Relationship, RelationshipEvent, RelationshipRole

_UNSET: object = object()


def require_manager(by: User) -> None:
    if not getattr(by, "can_manage_services", False):
        raise NotAllowed(
            "not_a_service_manager",
            "Only administrators and service managers may change organisations and relationships.",
        )


def _text(value: str, *, field: str, label: str, max_length: int, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"{field}_required", f"{label} is required.", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"{field}_too_long", f"{label} has at most {max_length} characters.", field=field)
    return value


# -- organisations ---------------------------------------------------------------------------------


def organisation_create(
    *,
    by: User,
    name: str,
    slug: str = "",
    domain: str = "",
    notes: str = "",
    hourly_cost: Decimal | None = None,
) -> Organisation:
    require_manager(by)
    _text(name, field="name", label="An organisation name", max_length=200, required=True)
    _text(domain, field="domain", label="The domain", max_length=200)
    return accounts_organisation_create(
        name=name, slug=slug, domain=domain, notes=notes, hourly_cost=hourly_cost, by=by
    )


def organisation_update(
    *,
    organisation: Organisation,
    by: User,
    name: str | None = None,
    domain: str | None = None,
    notes: str | None = None,
    hourly_cost: Decimal | None = KEEP,
    expected_version: Iterable[int] | None = None,
) -> Organisation:
    """`hourly_cost`: KEEP leaves it, None clears it (lost time is then costed at the provider default)."""
    require_manager(by)
    if name is not None:
        _text(name, field="name", label="An organisation name", max_length=200, required=True)
    if domain is not None:
        _text(domain, field="domain", label="The domain", max_length=200)
    return accounts_organisation_update(
        organisation=organisation,
        name=name,
        domain=domain,
        notes=notes,
        hourly_cost=hourly_cost,
        by=by,
        expected_version=expected_version,
    )


# -- people ----------------------------------------------------------------------------------------


def _email(value: str) -> str:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    email = _text(value, field="email", label="An email address", max_length=254, required=True).lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput("email_invalid", f"'{email}' is not an email address.", field="email") from None
    return email


def _login(user: User | None, organisation: Organisation, person: Person | None = None) -> User | None:
    if user is None:
        return None
    if user.role != User.Role.CUSTOMER or user.organisation_id != organisation.pk:
        raise InvalidInput(
            "login_other_organisation",
            "A person can only be linked to a customer login of their own organisation.",
            field="user",
        )
    others = Person.objects.filter(user=user)
    if person is not None:
        others = others.exclude(pk=person.pk)
    taken = others.first()
    if taken is not None:
        raise ConflictError("login_linked", f"That login is already linked to {taken}.", field="user")
    return user


PERSON_FIELDS = ("email", "name", "time_zone", "survey_opt_out", "survey_opted_out_at", "user")


def _save_person(person: Person, update_fields: Iterable[str] | None = None) -> Person:
    try:
        with transaction.atomic():
            person.save(update_fields=None if update_fields is None else [*update_fields, "updated_at"])
    except IntegrityError:
        raise ConflictError(
            "email_taken", f"{person.organisation} already has a person with the email {person.email}.", field="email"
        ) from None
    return person


def person_create(
    *,
    by: User,
    organisation: Organisation,
    email: str,
    name: str = "",
    time_zone: str = "UTC",
    survey_opt_out: bool = False,
    user: User | None = None,
) -> Person:
    require_manager(by)
    person = Person(
        organisation=organisation,
        email=_email(email),
        name=_text(name, field="name", label="A name", max_length=200),
        time_zone=validate_time_zone(time_zone),
        survey_opt_out=survey_opt_out,
        survey_opted_out_at=clock.now() if survey_opt_out else None,
        user=_login(user, organisation),
    )
    with transaction.atomic():
        _save_person(person)
        event_record("person.created", subject=person, by=by, person_id=person.pk, organisation_id=organisation.pk)
    return person


def person_update(
    *,
    person: Person,
    by: User,
    email: str | None = None,
    name: str | None = None,
    time_zone: str | None = None,
    survey_opt_out: bool | None = None,
    user: User | object | None = _UNSET,
    expected_version: Iterable[int] | None = None,
) -> Person:
    """Change a person; pass `user=None` to unlink the login, leave it out to keep it.

    `expected_version` as in `organisation_update`: a stale edit is refused with 412."""
    require_manager(by)
    before = {name: getattr(person, name) for name in PERSON_FIELDS}
    if email is not None:
        person.email = _email(email)
    if name is not None:
        person.name = _text(name, field="name", label="A name", max_length=200)
    if time_zone is not None:
        person.time_zone = validate_time_zone(time_zone)
    if survey_opt_out is not None:
        person_set_survey_opt_out(person=person, opted_out=survey_opt_out, save=False)
    if user is not _UNSET:
        person.user = _login(user, person.organisation, person)  # type: ignore[arg-type]
    changed = sorted(name for name, value in before.items() if getattr(person, name) != value)
    if not changed:
        version_check(person, expected=expected_version, noun="person")
        return person
    with transaction.atomic():
        version_claim(person, expected=expected_version, noun="person")
        _save_person(person, update_fields=changed)
        event_record("person.updated", subject=person, by=by, person_id=person.pk, changed=changed)
    return person


def person_set_survey_opt_out(*, person: Person, opted_out: bool, save: bool = True) -> Person:
    """Record when a person opted out of surveys (the throttle reads it); opting in again clears the date.

    Called by staff through `person_update`, and by the person themselves through an unsubscribe link.
    """
    if opted_out and not person.survey_opt_out:
        person.survey_opted_out_at = clock.now()
    elif not opted_out:
        person.survey_opted_out_at = None
    changed = person.survey_opt_out != opted_out
    person.survey_opt_out = opted_out
    if save and changed:
        with transaction.atomic():
            # The person's own choice (an unsubscribe link) is an edit too: a form open meanwhile is stale.
            version_claim(person, expected=None, noun="person")
            person.save(update_fields=["survey_opt_out", "survey_opted_out_at", "updated_at"])
            event_record("person.updated", subject=person, person_id=person.pk, changed=["survey_opt_out"])
    return person


# -- relationships ---------------------------------------------------------------------------------


def _event(
    relationship: Relationship, *, kind: str, description: str, by: User | None, at: datetime | None
) -> RelationshipEvent:
    return RelationshipEvent.objects.create(
        relationship=relationship, kind=kind, description=description[:500], by=by, occurred_at=at or clock.now()
    )


# A date before this is a typing slip, not a service history (a year's 0001 was seen in a test).
EARLIEST_START = EARLIEST_DATE


def _day_in_range(day: date) -> bool:
    """A relationship's start or end day: from 1970 to a year from today."""
    return EARLIEST_START <= day <= clock.now().date() + timedelta(days=366)


def relationship_create(
    *,
    by: User,
    organisation: Organisation,
    offering: Offering,
    started_on: date,
    status: str = Relationship.Status.ACTIVE,
    notes: str = "",
    at: datetime | None = None,
) -> Relationship:
    """Start a relationship. `at` backdates its first event (imports and the demo record past starts)."""
    require_manager(by)
    if status not in (Relationship.Status.ACTIVE, Relationship.Status.PAUSED):
        raise InvalidInput("status_invalid", "A new relationship is active or paused.", field="status")
    if not _day_in_range(started_on):
        raise InvalidInput(
            "started_on_invalid",
            f"A relationship starts between {EARLIEST_START:%Y} and a year from today.",
            field="started_on",
        )
    relationship = Relationship(
        organisation=organisation, offering=offering, started_on=started_on, status=status, notes=notes or ""
    )
    try:
        with transaction.atomic():
            relationship.save()
            _event(
                relationship,
                kind="started",
                description=f"{organisation} started using {offering} on {started_on:%d %b %Y}.",
                by=by,
                at=at,
            )
            if status == Relationship.Status.PAUSED:
                _event(relationship, kind="paused", description="Paused.", by=by, at=at)
            event_record(
                "relationship.started",
                subject=relationship,
                by=by,
                relationship_id=relationship.pk,
                organisation_id=organisation.pk,
                offering_id=offering.pk,
                status=status,
            )
    except IntegrityError:
        raise ConflictError(
            "relationship_open",
            f"{organisation} already has an open relationship for {offering}.",
            field="offering",
        ) from None
    return relationship


def relationship_set_status(
    *,
    relationship: Relationship,
    by: User,
    status: str,
    on: date | None = None,
    note: str = "",
    at: datetime | None = None,
) -> Relationship:
    """Pause, resume or end a relationship; ending is final (a new relationship starts afresh)."""
    require_manager(by)
    if status not in Relationship.Status.values:
        raise InvalidInput(
            "status_invalid", f"Status must be one of: {', '.join(Relationship.Status.values)}.", field="status"
        )
    with transaction.atomic():
        relationship = Relationship.objects.select_for_update().get(pk=relationship.pk)
        if relationship.status == Relationship.Status.ENDED:
            raise ConflictError("relationship_ended", "This relationship has ended; start a new one instead.")
        if status == relationship.status:
            return relationship
        previous = relationship.get_status_display()
        relationship.status = status
        if status == Relationship.Status.ENDED:
            ended_on = on or (at or clock.now()).date()
            if not _day_in_range(ended_on):
                raise InvalidInput(
                    "ended_on_invalid",
                    f"A relationship ends between {EARLIEST_START:%Y} and a year from today.",
                    field="on",
                )
            if ended_on < relationship.started_on:
                raise InvalidInput("ends_before_start", "A relationship cannot end before it started.", field="on")
            relationship.ended_on = ended_on
            kind, text = "ended", f"Ended on {ended_on:%d %b %Y}."
        elif status == Relationship.Status.PAUSED:
            kind, text = "paused", "Paused."
        else:
            kind, text = "resumed", f"Resumed (was {previous.lower()})."
        version_claim(relationship, expected=None, noun="relationship")
        relationship.save(update_fields=["status", "ended_on", "updated_at"])
        _event(relationship, kind=kind, description=f"{text} {note}".strip(), by=by, at=at)
        event_record(f"relationship.{kind}", subject=relationship, by=by, relationship_id=relationship.pk)
    return relationship


def relationship_update_notes(
    *, relationship: Relationship, by: User, notes: str, expected_version: Iterable[int] | None = None
) -> Relationship:
    """Change the notes; `expected_version` as in `organisation_update` (a stale edit: 412)."""
    require_manager(by)
    if notes == relationship.notes:
        version_check(relationship, expected=expected_version, noun="relationship")
        return relationship
    with transaction.atomic():
        version_claim(relationship, expected=expected_version, noun="relationship")
        relationship.notes = notes
        relationship.save(update_fields=["notes", "updated_at"])
        _event(relationship, kind="notes_changed", description="Notes changed.", by=by, at=None)
        event_record(
            "relationship.updated", subject=relationship, by=by, relationship_id=relationship.pk, changed=["notes"]
        )
    return relationship


def role_grant(
    *, relationship: Relationship, person: Person, role: str, by: User, at: datetime | None = None
) -> RelationshipRole:
    require_manager(by)
    if role not in RelationshipRole.Role.values:
        raise InvalidInput(
            "role_invalid", f"Role must be one of: {', '.join(RelationshipRole.Role.values)}.", field="role"
        )
    if person.organisation_id != relationship.organisation_id:
        raise InvalidInput(
            "person_other_organisation",
            f"{person} does not belong to {relationship.organisation}; only its own people hold roles in its relationships.",
            field="person",
        )
    if relationship.status == Relationship.Status.ENDED:
        raise ConflictError("relationship_ended", "This relationship has ended; roles can no longer be granted.")
    label = RelationshipRole.Role(role).label.lower()
    try:
        with transaction.atomic():
            granted = RelationshipRole.objects.create(relationship=relationship, person=person, role=role)
            _event(relationship, kind="role_granted", description=f"{person} became {label}.", by=by, at=at)
            # The roles are part of the relationship as the API shows it: its ETag moves on.
            version_claim(relationship, expected=None, noun="relationship")
            event_record(
                "relationship.role_granted",
                subject=relationship,
                by=by,
                relationship_id=relationship.pk,
                person_id=person.pk,
                role=role,
            )
    except IntegrityError:
        raise ConflictError("role_held", f"{person} is already {label} in this relationship.", field="role") from None
    return granted


def role_revoke(*, relationship: Relationship, person: Person, role: str, by: User) -> None:
    require_manager(by)
    with transaction.atomic():
        deleted, _ = RelationshipRole.objects.filter(relationship=relationship, person=person, role=role).delete()
        if not deleted:
            raise InvalidInput("role_not_held", f"{person} does not hold that role in this relationship.", field="role")
        label = RelationshipRole.Role(role).label.lower()
        _event(relationship, kind="role_revoked", description=f"{person} is no longer {label}.", by=by, at=None)
        version_claim(relationship, expected=None, noun="relationship")
        event_record(
            "relationship.role_revoked",
            subject=relationship,
            by=by,
            relationship_id=relationship.pk,
            person_id=person.pk,
            role=role,
        )
