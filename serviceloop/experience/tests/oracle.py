"""An independent recount for the rollup tests: the raw rows counted in Python, one row at a time.

It shares nothing with experience.recount but the meaning of tally.py's table, so a mistake in the
set-wise SQL (a day in the wrong zone, a lost join, a driver matched twice) shows as a difference.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from serviceloop.experience.tally import GROUP_DIMENSIONS, Tally
from serviceloop.feedback.models import Invitation, Post, Response, SuppressedInvitation

Row = tuple[int, date, int, int, str, str, str, str]


def _day(moment: object) -> date:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date()  # type: ignore[attr-defined]


def expected_rows() -> Counter[Row]:
    counts: Counter[Row] = Counter()
    for r in Response.objects.select_related("ticket"):
        base = (r.service_id, _day(r.responded_at), r.offering_id or 0, r.organisation_id or 0, r.channel)
        ticket_type = r.ticket.type if r.ticket else ""
        pairs = [("responses", "")]
        pairs += [
            (kind, str(getattr(r, kind)))
            for kind in ("csat", "happiness", "nps", "ces")
            if getattr(r, kind) is not None
        ]
        if r.lost_time_bucket:
            pairs.append(("lost_time", r.lost_time_bucket))
        if r.sentiment_label:
            pairs.append(("sentiment", r.sentiment_label))
        pairs += [("driver", driver) for driver in set(r.drivers)]
        if r.lost_time_bucket:
            pairs += [("driver_lost", f"{driver}:{r.lost_time_bucket}") for driver in set(r.drivers)]
        for measure, value in pairs:
            counts[(*base, ticket_type, measure, value)] += 1
    for i in Invitation.objects.select_related("ticket"):
        key = (
            i.service_id,
            _day(i.sent_at),
            i.offering_id or 0,
            i.organisation_id or 0,
            "email",
            i.ticket.type if i.ticket else "",
        )
        counts[(*key, "invitation", "sent")] += 1
        if Response.objects.filter(invitation=i).exists():
            counts[(*key, "invitation", "answered")] += 1
    for s in SuppressedInvitation.objects.select_related("ticket"):
        key = (s.service_id, _day(s.created_at), 0, s.organisation_id or 0, "email", s.ticket.type if s.ticket else "")
        counts[(*key, "suppressed", s.reason)] += 1
    for p in Post.objects.prefetch_related("services"):
        if not p.sentiment_label:
            continue
        for service in p.services.all():
            counts[(service.pk, _day(p.posted_at), 0, 0, "social", "", "post_sentiment", p.sentiment_label)] += 1
    return counts


def _part(dimension: str, row: Row) -> object:
    service, day, offering, organisation, channel, ticket_type = row[:6]
    return {
        "service": service,
        "offering": offering or None,
        "organisation": organisation or None,
        "channel": channel,
        "ticket_type": ticket_type,
        "day": day,
        "week": day - timedelta(days=day.weekday()),
        "month": day.replace(day=1),
    }[dimension]


def expected_grouped(
    rows: Counter[Row], group_by: tuple[str, ...], keep: object = None
) -> dict[tuple[object, ...], Tally]:
    assert all(dimension in GROUP_DIMENSIONS for dimension in group_by)
    grouped: dict[tuple[object, ...], Tally] = {}
    for row, count in rows.items():
        if keep is not None and not keep(row):  # type: ignore[operator]
            continue
        key = tuple(_part(dimension, row) for dimension in group_by)
        grouped.setdefault(key, Tally()).add(row[6], row[7], count)
    return grouped
