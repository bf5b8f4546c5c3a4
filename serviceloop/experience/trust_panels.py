"""The trust panels of other pages (issue 14): a service's lowest and falling fastest relationships, an
organisation's trust per service, and the trust section of a service review.

Reads only the stored states (`TrustState`, computed by trust_states.py from the evidence log) and,
for a review's period, the weekly points; never the evidence itself. Each read is one query with its
organisation and service joined (no N+1), by the states' indexes: (service, trust) for the lowest,
(service, change) for the falling fastest, the (organisation, service) pair for one organisation.

Tenancy is the caller's and these functions': a service's list names every organisation, so it is
for staff only (`service_panel` gives a customer their own organisation's row, and only when it is
shared with them); an organisation's own trust is shown to its customers only when
`trust_sharing.trust_shown_to_customers` says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Service
from serviceloop.core.visibility import is_staff_viewer
from serviceloop.experience.trust_models import TrustBand, TrustPoint, TrustState
from serviceloop.experience.trust_sharing import trust_shown_to_customers

SHOWN = 5  # organisations in each of a service's lists
CONTRIBUTIONS_SHOWN = 5  # a review's top contributions
BAND_BADGE = {TrustBand.GOOD: "ok", TrustBand.WATCH: "warn", TrustBand.RED: "bad", TrustBand.UNKNOWN: "muted"}
BAND_LABELS = dict(TrustBand.choices)


def detail_href(organisation_public_id: str, service_public_id: str) -> str | None:
    """The relationship's trust page (trust_views, named "trust_detail"); None where it is not mounted."""
    try:
        return reverse("experience:trust_detail", args=[organisation_public_id, service_public_id])
    except NoReverseMatch:
        return None


def signed(value: float | None) -> str:
    """+3.2, −10.4 (a true minus sign), or "—" when there is no earlier figure to compare with."""
    if value is None:
        return "—"
    rounded = round(value, 1)
    if rounded == 0:
        return "±0"
    return f"+{rounded:g}" if rounded > 0 else f"−{abs(rounded):g}"


@dataclass(frozen=True)
class TrustRow:
    """One relationship's trust as a panel shows it."""

    organisation: str
    organisation_public_id: str
    service: str
    service_public_id: str
    trust: float | None  # None: no evidence yet (a consumed service without a state)
    confidence: float | None
    band: str
    change: float | None
    as_of: date | None
    href: str | None

    @property
    def band_label(self) -> str:
        return BAND_LABELS.get(self.band, self.band)

    @property
    def badge(self) -> str:
        return BAND_BADGE.get(TrustBand(self.band), "muted") if self.band in TrustBand.values else "muted"

    @property
    def change_shown(self) -> str:
        return signed(self.change)

    @property
    def trust_shown(self) -> str:
        return "—" if self.trust is None else f"{self.trust:.1f}"


def row_of(state: TrustState) -> TrustRow:
    organisation, service = state.organisation, state.service
    return TrustRow(
        organisation=organisation.name,
        organisation_public_id=organisation.public_id,
        service=service.name,
        service_public_id=service.public_id,
        trust=state.trust,
        confidence=state.confidence,
        band=state.band,
        change=state.change,
        as_of=state.as_of,
        href=detail_href(organisation.public_id, service.public_id),
    )


def _states() -> QuerySet[TrustState]:
    return TrustState.objects.select_related("organisation", "service")


def lowest(service: Service, limit: int = SHOWN) -> list[TrustRow]:
    """The service's relationships with the lowest trust; those with too little evidence to say are left
    out (their figure is the prior's, not the customer's)."""
    rows = _states().filter(service=service).exclude(band=TrustBand.UNKNOWN).order_by("trust", "pk")[:limit]
    return [row_of(state) for state in rows]


def falling(service: Service, limit: int = SHOWN) -> list[TrustRow]:
    """The service's relationships whose trust fell most over the last SERVICELOOP_TRUST_FALL_DAYS."""
    rows = _states().filter(service=service, change__lt=0).order_by("change", "pk")[:limit]
    return [row_of(state) for state in rows]


@dataclass
class ServicePanel:
    """The service page's "Trust" panel: staff see both lists; a customer their own row, when shared."""

    staff: bool
    lowest: list[TrustRow] = field(default_factory=list)
    falling: list[TrustRow] = field(default_factory=list)
    own: TrustRow | None = None
    shown: bool = True  # False: a customer whose trust is not shared (the panel is not drawn)
    relationships: int = 0  # states of the service (staff: "of N relationships")

    @property
    def own_rows(self) -> list[TrustRow]:
        return [self.own] if self.own is not None else []


def service_panel(*, viewer: User, service: Service) -> ServicePanel:
    if is_staff_viewer(viewer):
        return ServicePanel(
            staff=True,
            lowest=lowest(service),
            falling=falling(service),
            relationships=TrustState.objects.filter(service=service).count(),
        )
    organisation = Organisation.objects.filter(pk=viewer.organisation_id or 0).first()
    if organisation is None or not trust_shown_to_customers(organisation):
        return ServicePanel(staff=False, shown=False)
    state = _states().filter(service=service, organisation=organisation).first()
    return ServicePanel(staff=False, own=row_of(state) if state is not None else None)


@dataclass
class OrganisationPanel:
    """The organisation page's trust per consumed service, and whether it is shared in the portal."""

    rows: list[TrustRow]
    shared: bool
    shown: bool  # a customer whose trust is not shared sees no panel at all


def organisation_rows(organisation: Organisation, services: Iterable[Service]) -> list[TrustRow]:
    """A row per service the organisation consumes (those without evidence say so) and per service it
    has a state for (a relationship that ended keeps its memory), lowest trust first."""
    states = {state.service_id: state for state in _states().filter(organisation=organisation)}
    rows = [row_of(state) for state in states.values()]
    for service in services:
        if service.pk not in states:
            rows.append(
                TrustRow(
                    organisation=organisation.name,
                    organisation_public_id=organisation.public_id,
                    service=service.name,
                    service_public_id=service.public_id,
                    trust=None,
                    confidence=None,
                    band=TrustBand.UNKNOWN,
                    change=None,
                    as_of=None,
                    href=None,
                )
            )
    return sorted(rows, key=lambda row: (row.trust is None, row.trust or 0.0, row.service))


def organisation_panel(*, viewer: User, organisation: Organisation, services: Iterable[Service]) -> OrganisationPanel:
    shared = trust_shown_to_customers(organisation)
    if not is_staff_viewer(viewer) and not shared:
        return OrganisationPanel(rows=[], shared=False, shown=False)
    return OrganisationPanel(rows=organisation_rows(organisation, services), shared=shared, shown=True)


# ---------------------------------------------------------------- contributions in words


def contribution_sentence(item: dict[str, Any]) -> str:
    """One of TrustState.contributions as a page says it: "major incident MI-12: −18", "recovery credit
    for major incident MI-12: +6, pending +3 until review actions close", "small failures (14): −9.5"."""
    label = str(item.get("label", ""))
    count = int(item.get("count") or 0)
    group = str(item.get("group", ""))
    if group.startswith("kind:") and count > 1:
        label = f"{label} ({count})"
    text = f"{label}: {signed(float(item.get('effect') or 0.0))}"
    pending = float(item.get("pending") or 0.0)
    if pending > 0:
        text += f", pending {signed(pending)} until review actions close"
    return text


# ---------------------------------------------------------------- the service review's section


@dataclass
class ReviewTrust:
    """A review's trust section. A relationship's review: its trust at the start and end of the
    period, the change, and the top contributions (as of the state's day); a service's review: the
    lowest and falling fastest lists. `for_customers`: the organisation sees its trust in the portal,
    so the section may be shown to its customers (and printed in the PDF they download)."""

    relationship: TrustRow | None = None
    at_start: float | None = None
    at_end: float | None = None
    end_day: date | None = None
    contributions: list[str] = field(default_factory=list)
    lowest: list[TrustRow] = field(default_factory=list)
    falling: list[TrustRow] = field(default_factory=list)
    for_customers: bool = False
    is_relationship: bool = False

    @property
    def period_change(self) -> str:
        if self.at_start is None or self.at_end is None:
            return "—"
        return signed(self.at_end - self.at_start)

    @property
    def empty(self) -> bool:
        return self.relationship is None and not self.lowest and not self.falling


def _point_on_or_before(organisation_id: int, service_id: int, day: date) -> TrustPoint | None:
    return (
        TrustPoint.objects.filter(organisation_id=organisation_id, service_id=service_id, day__lte=day)
        .order_by("-day")
        .first()
    )


def review_trust(review: Any) -> ReviewTrust:
    """The trust section of a ServiceReview (reports.report_data)."""
    relationship = review.relationship
    if relationship is None:
        return ReviewTrust(lowest=lowest(review.service), falling=falling(review.service))
    organisation = relationship.organisation
    section = ReviewTrust(is_relationship=True, for_customers=trust_shown_to_customers(organisation))
    state = _states().filter(organisation=organisation, service_id=review.service_id).first()
    if state is None:
        return section
    section.relationship = row_of(state)
    start = _point_on_or_before(organisation.pk, review.service_id, review.period_start)
    end = _point_on_or_before(organisation.pk, review.service_id, review.period_end)
    section.at_start = start.trust if start is not None else None
    section.at_end = end.trust if end is not None else None
    section.end_day = end.day if end is not None else None
    section.contributions = [contribution_sentence(item) for item in state.contributions[:CONTRIBUTIONS_SHOWN]]
    return section
