"""The rules a maintenance window must keep, checked before anything is written."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.conf import settings

from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.errors import InvalidInput

PAST_GRACE = timedelta(minutes=1)
# The notice may come at most a week before the window.
NOTICE_MAX_MINUTES = 7 * 24 * 60
TITLE_MAX = 200
BODY_MAX = 10000


def notice_minutes_default() -> int:
    return int(settings.SERVICELOOP_MAINTENANCE_NOTICE_MINUTES)


def longest_window() -> timedelta:
    return timedelta(hours=float(settings.SERVICELOOP_MAINTENANCE_MAX_HOURS))


# -- validation --------------------------------------------------------------------------------------


def validate_text(value: str, *, field: str, required: bool, limit: int) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput("required", "Give the maintenance a title.", field=field)
    if len(value) > limit:
        raise InvalidInput("too_long", f"{field.capitalize()} has at most {limit} characters.", field=field)
    return value


def validate_window(scheduled_for: datetime, scheduled_until: datetime, *, now: datetime, check_start: bool) -> None:
    if scheduled_for.tzinfo is None or scheduled_until.tzinfo is None:
        raise InvalidInput("naive_time", "Give the window's times with their time zone.", field="scheduled_for")
    if scheduled_until <= scheduled_for:
        raise InvalidInput("window_order", "The window must end after it starts.", field="scheduled_until")
    if check_start and scheduled_for < now - PAST_GRACE:
        raise InvalidInput("window_in_past", "The window cannot start in the past.", field="scheduled_for")
    if scheduled_until - scheduled_for > longest_window():
        hours = settings.SERVICELOOP_MAINTENANCE_MAX_HOURS
        raise InvalidInput(
            "window_too_long",
            f"A maintenance window lasts at most {hours:g} hours (SERVICELOOP_MAINTENANCE_MAX_HOURS).",
            field="scheduled_until",
        )


def validate_notice(notice_minutes: int | None) -> int:
    minutes = notice_minutes_default() if notice_minutes is None else notice_minutes
    if isinstance(minutes, bool) or not 0 <= int(minutes) <= NOTICE_MAX_MINUTES:
        raise InvalidInput(
            "notice_range", f"The notice is between 0 and {NOTICE_MAX_MINUTES} minutes.", field="notice_minutes"
        )
    return int(minutes)


def validate_services(services: Sequence[Service]) -> list[Service]:
    chosen = list({service.pk: service for service in services if service.pk}.values())
    if not chosen:
        raise InvalidInput("services_required", "Choose at least one service the work affects.", field="services")
    found = set(Service.objects.filter(pk__in=[s.pk for s in chosen]).values_list("pk", flat=True))
    if len(found) != len(chosen):
        raise InvalidInput("service_unknown", "One of the services does not exist.", field="services")
    return chosen


def validate_offerings(offerings: Iterable[Offering], services: list[Service]) -> list[Offering]:
    chosen = list({offering.pk: offering for offering in offerings}.values())
    service_ids = {service.pk for service in services}
    if any(offering.service_id not in service_ids for offering in chosen):
        raise InvalidInput(
            "offering_not_of_service", "Each offering must be of one of the services.", field="offerings"
        )
    return chosen
