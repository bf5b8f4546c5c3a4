"""The ingest API's write path: one response, or a batch of NDJSON lines from another system.

A batch is validated whole before anything is written: every line is parsed and checked, the
services, offerings, organisations and people it names are looked up set-wise, and lines whose
(source, external_id) is already stored — or repeated earlier in the same batch — count as
duplicates. The valid new lines are then written in one transaction with `bulk_create`; invalid
lines are reported with their line number and reason and never written, so nothing is half-written.
Sending the same batch again creates nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.clock import now
from serviceloop.core.errors import InvalidInput
from serviceloop.core.events import event_record
from serviceloop.feedback.models import LOST_TIME_MINUTES, Channel, Driver, LostTime, Response
from serviceloop.feedback.services.sentiment_labels import prepare_text, score_many
from serviceloop.relationships.models import Person

MAX_BATCH_LINES = 10_000
# Rows per INSERT and per look-up query: under SQLite's bound-parameter limit with room to spare.
_CHUNK = 1_000
# Overlapping batches committing one after another between our look-up and our insert.
_STORE_ATTEMPTS = 5


class IngestItem(BaseModel):
    """One response from another system; (source, external_id) makes sending it again harmless."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source: str = Field(min_length=1, max_length=100, description='The sending system, e.g. "kiosk" or "crm"')
    external_id: str = Field(min_length=1, max_length=200, description="The response's id in the sending system")
    service: str = Field(min_length=1, max_length=80, description="The service's public id or slug")
    offering: str | None = Field(default=None, max_length=80, description="The offering's public id or slug")
    organisation: str | None = Field(default=None, max_length=24, description="The organisation's public id")
    person_email: str | None = Field(default=None, max_length=254)
    csat: int | None = Field(default=None, ge=1, le=5)
    happiness: int | None = Field(default=None, ge=0, le=10)
    nps: int | None = Field(default=None, ge=0, le=10)
    ces: int | None = Field(default=None, ge=1, le=7)
    lost_time: LostTime | None = None
    drivers: list[Driver] = Field(default_factory=list, max_length=6)
    comment: str = Field(default="", max_length=10_000)
    responded_at: datetime | None = Field(default=None, description="When it was answered; default: now")

    @field_validator("person_email")
    @classmethod
    def _email_shape(cls, value: str | None) -> str | None:
        if value is not None and (value.count("@") != 1 or value.startswith("@") or value.endswith("@")):
            raise ValueError("is not an email address")
        return value.lower() if value else None

    @field_validator("responded_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2026-11-25T09:30:00Z")
        return value

    @model_validator(mode="after")
    def _says_something(self) -> IngestItem:
        scores = (self.csat, self.happiness, self.nps, self.ces, self.lost_time)
        if all(value is None for value in scores) and not self.comment and not self.drivers:
            raise ValueError("a response needs a score, lost time, drivers or a comment")
        return self


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str


@dataclass
class IngestReport:
    received: int = 0
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[LineError] = field(default_factory=list)
    response_ids: list[int] = field(default_factory=list)


def _reason(error: ValidationError) -> str:
    parts = []
    for problem in error.errors()[:3]:
        location = ".".join(str(part) for part in problem.get("loc", ()))
        message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)


def parse_lines(lines: Iterable[bytes | str]) -> tuple[list[tuple[int, IngestItem]], list[LineError], int]:
    """Validated items with their line numbers, errors for the rest, and how many lines were received.

    Blank lines are skipped (a trailing newline is not a line) and are not counted.
    """
    items: list[tuple[int, IngestItem]] = []
    errors: list[LineError] = []
    received = 0
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        received += 1
        try:
            items.append((number, IngestItem.model_validate_json(raw)))
        except ValidationError as error:
            if any(problem.get("type") == "json_invalid" for problem in error.errors()) or any(
                problem.get("type") == "model_type" for problem in error.errors()
            ):
                errors.append(LineError(number, "not a JSON object"))
            else:
                errors.append(LineError(number, _reason(error)))
    return items, errors, received


@dataclass
class _Lookups:
    services: dict[str, Service]
    offerings: dict[tuple[int, str], Offering]
    organisations: dict[str, Organisation]
    people: dict[str, list[Person]]


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def lookups_for(items: Sequence[IngestItem]) -> _Lookups:
    service_keys = sorted({item.service for item in items})
    services: dict[str, Service] = {}
    for chunk in _chunks(service_keys):
        for service in Service.objects.filter(Q(public_id__in=chunk) | Q(slug__in=chunk)):
            services[service.public_id] = service
            services[service.slug] = service
    offering_keys = sorted({item.offering for item in items if item.offering})
    offerings: dict[tuple[int, str], Offering] = {}
    for chunk in _chunks(offering_keys):
        for offering in Offering.objects.filter(Q(public_id__in=chunk) | Q(slug__in=chunk)):
            offerings[(offering.service_id, offering.public_id)] = offering
            offerings[(offering.service_id, offering.slug)] = offering
    organisation_keys = sorted({item.organisation for item in items if item.organisation})
    organisations = {
        org.public_id: org
        for chunk in _chunks(organisation_keys)
        for org in Organisation.objects.filter(public_id__in=chunk)
    }
    emails = sorted({item.person_email for item in items if item.person_email})
    people: dict[str, list[Person]] = {}
    for chunk in _chunks(emails):
        for person in Person.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=chunk):
            people.setdefault(person.email.lower(), []).append(person)
    return _Lookups(services, offerings, organisations, people)


def _existing_keys(keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (source, external_id) pairs among `keys` that are stored already.

    One query per source with the ids passed as one array parameter (PostgreSQL `= ANY`, SQLite
    `json_each`): an ORM `__in` of 10,000 ids costs more to build than to run.
    """
    by_source: dict[str, list[str]] = {}
    for source, external_id in keys:
        by_source.setdefault(source, []).append(external_id)
    table = connection.ops.quote_name(Response._meta.db_table)
    if connection.vendor == "postgresql":
        sql = f"SELECT external_id FROM {table} WHERE source = %s AND external_id IS NOT NULL AND external_id = ANY(%s)"  # noqa: S608  # nosec B608  # our quoted table name; values are parameters
    elif connection.vendor == "sqlite":
        sql = (
            f"SELECT external_id FROM {table} WHERE source = %s AND external_id IS NOT NULL "  # noqa: S608  # nosec B608  # our quoted table name; values are parameters
            "AND external_id IN (SELECT value FROM json_each(%s))"
        )
    else:  # pragma: no cover - the supported databases are above
        return _existing_keys_orm(by_source)
    found: set[tuple[str, str]] = set()
    with connection.cursor() as cursor:
        for source, external_ids in by_source.items():
            cursor.execute(
                sql, [source, external_ids if connection.vendor == "postgresql" else json.dumps(external_ids)]
            )
            found.update((source, external_id) for (external_id,) in cursor.fetchall())
    return found


def _existing_keys_orm(by_source: dict[str, list[str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for source, external_ids in by_source.items():
        for chunk in _chunks(sorted(set(external_ids))):
            stored = Response.objects.filter(source=source, external_id__in=chunk).values_list("external_id", flat=True)
            found.update((source, str(external_id)) for external_id in stored)
    return found


def row_fields(item: IngestItem, lookups: _Lookups, received_at: datetime) -> dict[str, Any] | str:
    """The field values of the response for `item` (foreign keys as ids), or the reason it is refused."""
    service = lookups.services.get(item.service)
    if service is None:
        return f"service: no service with public id or slug {item.service!r}"
    offering_id = None
    if item.offering:
        offering = lookups.offerings.get((service.pk, item.offering))
        if offering is None:
            return f"offering: {service.slug!r} has no offering {item.offering!r}"
        offering_id = offering.pk
    organisation_id = None
    if item.organisation:
        organisation = lookups.organisations.get(item.organisation)
        if organisation is None:
            return f"organisation: no organisation with public id {item.organisation!r}"
        organisation_id = organisation.pk
    person_id = None
    if item.person_email:
        candidates = [
            p
            for p in lookups.people.get(item.person_email, [])
            if organisation_id is None or p.organisation_id == organisation_id
        ]
        if len(candidates) > 1:
            return "person_email: several organisations have this person; name the organisation"
        if candidates:
            person_id = candidates[0].pk
            organisation_id = organisation_id or candidates[0].organisation_id
    return {
        "service_id": service.pk,
        "offering_id": offering_id,
        "organisation_id": organisation_id,
        "person_id": person_id,
        "channel": Channel.INGEST,
        "source": item.source,
        "external_id": item.external_id,
        "responded_at": item.responded_at or received_at,
        "csat": item.csat,
        "happiness": item.happiness,
        "nps": item.nps,
        "ces": item.ces,
        "lost_time_bucket": item.lost_time,
        "lost_time_minutes": LOST_TIME_MINUTES[item.lost_time] if item.lost_time else None,
        "drivers": [str(driver) for driver in item.drivers],
        "comment": item.comment,
    }


def score_fields(rows: Sequence[dict[str, Any]]) -> None:
    """Mask (when the setting asks) and score the comments of `rows` in bulk, in place."""
    for row in rows:
        row["comment"], _ = prepare_text(row["comment"])
    for row, result in zip(rows, score_many([row["comment"] for row in rows]), strict=True):
        if result is not None:
            row["sentiment_score"] = result.score
            row["sentiment_label"] = result.label.value
            row["sentiment_version"] = result.version


def ingest_items(
    *, items: Sequence[tuple[int, IngestItem]], by: User | None, report: IngestReport, bulk_event: bool = True
) -> IngestReport:
    """Write the new ones of already-validated items set-wise, in one transaction; fill in `report`.

    One `responses.ingested` event per batch (`bulk_event`), else one `response.recorded` per row,
    each written in the transaction that stores its rows.
    """
    received_at = now()
    lookups = lookups_for([item for _, item in items])
    candidates: list[tuple[tuple[str, str], dict[str, Any]]] = []
    for number, item in items:
        built = row_fields(item, lookups, received_at)
        if isinstance(built, str):
            report.errors.append(LineError(number, built))
        else:
            candidates.append(((item.source, item.external_id), built))
    report.errors.sort(key=lambda error: error.line)
    report.rejected = len(report.errors)
    for attempt in range(1, _STORE_ATTEMPTS + 1):
        try:
            _store(candidates, report, bulk_event=bulk_event, by=by)
            break
        except IntegrityError:
            # Another request stored some of the same keys between our look-up and our insert: the
            # batch's savepoint was rolled back whole; look again (their rows now count as
            # duplicates). Each retry follows a batch that committed, so a few always suffice.
            if attempt == _STORE_ATTEMPTS:
                raise
    return report


def _store(
    candidates: Sequence[tuple[tuple[str, str], dict[str, Any]]],
    report: IngestReport,
    *,
    bulk_event: bool,
    by: User | None,
) -> None:
    existing = _existing_keys([key for key, _ in candidates])
    seen: set[tuple[str, str]] = set()
    new: list[dict[str, Any]] = []
    duplicates = 0
    for key, values in candidates:
        if key in existing or key in seen:
            duplicates += 1
            continue
        seen.add(key)
        new.append(dict(values))
    # Scoring is CPU work: done before the transaction so the write lock is held only for the insert.
    score_fields(new)
    # Inserted in key order: two batches that share keys then take their unique-index locks in the
    # same order on PostgreSQL, so one waits for the other instead of both deadlocking.
    new.sort(key=lambda values: (values["source"], values["external_id"]))
    rows = [Response(**values) for values in new]
    with transaction.atomic():
        # No ignore_conflicts: a key stored meanwhile by another request raises IntegrityError and
        # rolls the whole batch back (ingest_items looks again), so the counts are exact and the
        # inserted rows get their ids back from the INSERT itself.
        Response.objects.bulk_create(rows, batch_size=_CHUNK)
        ids = [row.pk for row in rows]
        # The event commits with the rows it announces: one per batch, or one per single response.
        if ids and bulk_event:
            event_record("responses.ingested", by=by, response_ids=list(ids))
        elif ids:
            for row in rows:
                event_record("response.recorded", subject=row, by=by, response_id=row.pk)
    report.created = len(ids)
    report.duplicates = duplicates
    report.response_ids = ids


def ingest_batch(*, lines: Iterable[bytes | str], by: User | None) -> IngestReport:
    """Validate every NDJSON line, then store the valid new ones; see the module docstring."""
    materialised = list(lines)
    if sum(1 for line in materialised if line.strip()) > MAX_BATCH_LINES:
        raise InvalidInput("batch_too_large", f"A batch holds at most {MAX_BATCH_LINES:,} lines; split it.")
    items, errors, received = parse_lines(materialised)
    report = IngestReport(received=received, errors=errors)
    return ingest_items(items=items, by=by, report=report)


def ingest_one(*, item: IngestItem, by: User | None) -> tuple[Response, bool]:
    """Store one response; sending it again returns the stored one (created False), unchanged."""
    report = IngestReport(received=1)
    ingest_items(items=[(1, item)], by=by, report=report, bulk_event=False)
    if report.errors:
        reason = report.errors[0].reason
        field_name, _, message = reason.partition(": ")
        raise InvalidInput("invalid", message[:1].upper() + message[1:] + ".", field=field_name)
    response = Response.objects.get(source=item.source, external_id=item.external_id)
    return response, bool(report.created)


def split_ndjson(body: bytes) -> list[bytes]:
    """The lines of an NDJSON body (LF or CRLF)."""
    return body.split(b"\n")


def dumps_report(report: IngestReport) -> dict[str, Any]:
    return {
        "received": report.received,
        "created": report.created,
        "duplicates": report.duplicates,
        "rejected": report.rejected,
        "errors": [{"line": error.line, "reason": error.reason} for error in report.errors],
    }
