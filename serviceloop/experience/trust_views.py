"""Trust pages: every relationship's trust (staff), and one relationship's trust explained point by point.

Thin: the rows come from trust_queries (which decides who sees what), the chart from charts.py.
A customer user opens their own organisation's trust page only when the provider shows it in the
portal; anything else answers 404 (trust_queries.state_for).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Service
from serviceloop.core.access import staff_required
from serviceloop.core.pagination import paginate
from serviceloop.core.visibility import is_staff_viewer
from serviceloop.experience import trust_queries
from serviceloop.experience.charts import Chart, Point, Reference, Series, line_chart, sparkline
from serviceloop.experience.trust_models import EvidenceKind, TrustBand, TrustEvidence, TrustPoint, TrustState

# The badge class of each band (app.css): colour helps, the band's name always shows beside it.
BAND_BADGES = {TrustBand.GOOD: "ok", TrustBand.WATCH: "warn", TrustBand.RED: "bad", TrustBand.UNKNOWN: ""}
ORDER_CHOICES = (("trust", "Lowest trust first"), ("change", "Falling fastest first"))
# The unit the charts print trust in (charts.format_value: like the 1–5 of CES, a plain number).
UNIT = "0–100"


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _query(values: dict[str, str]) -> str:
    """A query string of the values given, the empty ones left out."""
    return urlencode({key: value for key, value in values.items() if value})


def _choice(value: str, allowed: Any, default: str = "") -> str:
    return value if value in allowed else default


@dataclass
class Row:
    """One relationship's trust as the list shows it."""

    state: TrustState
    trend: Chart | None

    @property
    def badge(self) -> str:
        return BAND_BADGES.get(self.state.band, "")  # type: ignore[call-overload, no-any-return]

    @property
    def change(self) -> str:
        return trust_queries.points_text(self.state.change)


def _trend(state: TrustState, points: list[TrustPoint]) -> Chart | None:
    if len(points) < 2:
        return None
    shown = [Point(label=point.day.isoformat(), value=point.trust) for point in points]
    title = f"Trust of {state.organisation.name} in {state.service.name}, last {len(points)} weeks"
    return sparkline(shown, title=title, unit=UNIT)


@staff_required
def trust_list(request: HttpRequest) -> HttpResponse:
    """Every relationship's trust, lowest (or falling fastest) first; filters by service, band and name."""
    service = request.GET.get("service", "")[:24]
    band = _choice(request.GET.get("band", ""), TrustBand.values)
    name = request.GET.get("q", "").strip()[:200]
    order = _choice(request.GET.get("order", ""), trust_queries.ORDERS, "trust")
    viewer = _user(request)
    unbanded = trust_queries.state_list(viewer=viewer, service=service, name=name, order=order)
    rows = unbanded.filter(band=band) if band else unbanded
    page_obj = paginate(request, rows)
    states = list(page_obj)
    trends = trust_queries.trends_of(states)
    counts = trust_queries.band_counts(unbanded)
    base = {"service": service, "q": name, "order": order}
    chips = [
        {
            "band": value,
            "label": label,
            "badge": BAND_BADGES[TrustBand(value)],
            "count": counts[value],
            "href": "?" + _query({**base, "band": value}),
            "current": value == band,
        }
        for value, label in TrustBand.choices
    ]
    return render(
        request,
        "experience/trust_list.html",
        {
            "page_obj": page_obj,
            "rows": [
                Row(state, _trend(state, trends.get((state.organisation_id, state.service_id), []))) for state in states
            ],
            "services": Service.objects.filter(trust_states__isnull=False).distinct().order_by("name"),
            "service": service,
            "band": band,
            "bands": TrustBand.choices,
            "chips": chips,
            "all_href": "?" + _query(base),
            "q": name,
            "order": order,
            "orders": ORDER_CHOICES,
            "query": urlencode({**base, "band": band}),
            "csv_query": _query({**base, "band": band}),
            "filtered": bool(service or band or name),
            "anything": trust_queries.states_visible(viewer=viewer).exists(),
            "fall_days": settings.SERVICELOOP_TRUST_FALL_DAYS,
            "red": settings.SERVICELOOP_TRUST_RED,
            "watch": settings.SERVICELOOP_TRUST_WATCH,
        },
    )


def _chart(state: TrustState, points: list[TrustPoint], evidence_days: list[Any]) -> Chart:
    """Trust at the end of each week, with the band thresholds as lines; n: evidence counted by then."""
    shown = [
        Point(label=point.day.isoformat(), value=point.trust, n=bisect_right(evidence_days, point.day))
        for point in points
    ]
    references = [
        Reference(settings.SERVICELOOP_TRUST_WATCH, "Watch below"),
        Reference(settings.SERVICELOOP_TRUST_RED, "Red below"),
    ]
    return line_chart(
        [Series("Trust", shown)],
        title=f"Trust of {state.organisation.name} in {state.service.name} at the end of each week",
        unit=UNIT,
        y_range=(0, 100),
        references=references,
    )


@dataclass
class MajorRow:
    """A major incident of the pair: the stored outcome (TrustState.majors) and where its page is."""

    major: dict[str, Any]
    href: str
    reference: str


def _major_rows(state: TrustState, staff: bool) -> list[MajorRow]:
    from django.urls import reverse

    incidents = trust_queries.incidents_of(state)
    rows = []
    for major in state.majors:
        incident = incidents.get(major.get("incident_id"))  # type: ignore[arg-type]
        href = ""
        if incident is not None:
            name = "incidents:incident" if staff else "incidents:portal_incident"
            href = reverse(name, args=[incident.public_id])
        rows.append(MajorRow(major, href, incident.reference if incident is not None else ""))
    return rows


def _evidence_rows(rows: list[TrustEvidence]) -> list[dict[str, Any]]:
    result = []
    for row in rows:
        facts = []
        if row.share is not None:
            facts.append(f"share {row.share:.0%}")
        if row.severity is not None:
            facts.append(f"severity {row.severity:.2f}")
        if row.communication is not None:
            facts.append(f"communication {row.communication:.0%}")
        if row.plan is not None:
            facts.append(f"plan {row.plan:.0%}")
        result.append({"row": row, "facts": ", ".join(facts)})
    return result


@login_required
def trust_detail(request: HttpRequest, organisation: str, service: str) -> HttpResponse:
    """One relationship's trust: level, band, confidence, change, trend, why (contributions), majors, evidence."""
    viewer = _user(request)
    state = trust_queries.state_for(viewer=viewer, organisation=organisation, service=service)
    kind = _choice(request.GET.get("kind", ""), EvidenceKind.values)
    evidence = paginate(request, trust_queries.evidence_of(state, kind))
    points = list(trust_queries.points_of(state))
    days = sorted(trust_queries.evidence_of(state).values_list("day", flat=True).order_by())
    staff = is_staff_viewer(viewer)
    current = trust_queries.current_version()
    return render(
        request,
        "experience/trust_detail.html",
        {
            "state": state,
            "badge": BAND_BADGES.get(state.band, ""),  # type: ignore[call-overload]
            "change": trust_queries.points_text(state.change),
            "confidence": round(state.confidence * 100),
            "chart": _chart(state, points, days),
            "points": [(point, bisect_right(days, point.day)) for point in points],
            "explanations": trust_queries.explanations(state),
            "majors": _major_rows(state, staff),
            "evidence": _evidence_rows(list(evidence)),
            "page_obj": evidence,
            "kind": kind,
            "kinds": EvidenceKind.choices,
            "query": urlencode({"kind": kind}),
            "is_staff": staff,
            "shared": trust_queries.shown_to_customers(state.organisation_id) if staff else True,
            "current_version": current,
            "stale_version": current is not None and current != state.parameters_version,
            "fall_days": settings.SERVICELOOP_TRUST_FALL_DAYS,
            "red": settings.SERVICELOOP_TRUST_RED,
            "watch": settings.SERVICELOOP_TRUST_WATCH,
            "min_confidence": round(settings.SERVICELOOP_TRUST_MIN_CONFIDENCE * 100),
        },
    )
