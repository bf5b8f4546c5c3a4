"""Reads of trust states, points and evidence, narrowed to what the viewer may see (docs/trust-pages.md).

Staff see every relationship's trust. A customer user sees their own organisation's trust only, and
only when the provider shows it in the portal (`shown_to_customers`); anything else answers 404, as a
row they may not see, so a customer cannot tell an unshared state from a missing one.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.http import Http404

from serviceloop.accounts.models import Organisation, User
from serviceloop.core import clock
from serviceloop.core.visibility import is_staff_viewer
from serviceloop.experience import trust_sharing
from serviceloop.experience.recount import day_of
from serviceloop.experience.trust_models import (
    EvidenceKind,
    TrustBand,
    TrustEvidence,
    TrustParameterSet,
    TrustPoint,
    TrustSharing,
    TrustState,
)
from serviceloop.incidents.models import Incident

ORDERS = ("trust", "change")  # lowest first, falling fastest
TREND_WEEKS = 26  # the list's sparkline: about half a year of weekly points


# -- portal sharing (trust_sharing.py) ---------------------------------------------------------------


def shown_to_customers(organisation_id: int) -> bool:
    """Whether this organisation's customers may see its trust (off unless the provider turned it on);
    by id, as the viewer carries it (trust_shown_to_customers reads only the pk)."""
    return trust_sharing.trust_shown_to_customers(Organisation(pk=organisation_id))


def sharing_set(*, organisation: Organisation, shown: bool, by: User) -> TrustSharing:
    """Show or hide an organisation's own trust in its portal (the API's PUT .../sharing/{organisation})."""
    return trust_sharing.trust_sharing_set(organisation=organisation, shown=shown, by=by)


# -- states -------------------------------------------------------------------------------------------


def states_visible(*, viewer: Any) -> QuerySet[TrustState]:
    """Staff: every state. A customer: their own organisation's, when it is shown to them; else none."""
    rows = TrustState.objects.select_related("organisation", "service")
    if not getattr(viewer, "is_authenticated", False):
        return rows.none()
    if is_staff_viewer(viewer):
        return rows
    organisation_id = getattr(viewer, "organisation_id", None)
    if organisation_id is None or not shown_to_customers(organisation_id):
        return rows.none()
    return rows.filter(organisation_id=organisation_id)


def state_list(
    *,
    viewer: Any,
    service: str = "",
    organisation: str = "",
    band: str = "",
    name: str = "",
    order: str = "trust",
) -> QuerySet[TrustState]:
    """The states the viewer may see, filtered (service and organisation by public id, name: part of
    the organisation's name); lowest trust first, or (order "change") falling fastest
    first: the largest fall over SERVICELOOP_TRUST_FALL_DAYS, states without a change last."""
    rows = states_visible(viewer=viewer)
    if service:
        rows = rows.filter(service__public_id=service)
    if organisation:
        rows = rows.filter(organisation__public_id=organisation)
    if band:
        rows = rows.filter(band=band)
    if name:
        rows = rows.filter(organisation__name__icontains=name)
    if order == "change":
        return rows.order_by(F("change").asc(nulls_last=True), "trust", "pk")
    return rows.order_by("trust", "pk")


def band_counts(rows: QuerySet[TrustState]) -> dict[str, int]:
    """How many of `rows` are in each band (one query), every band present."""
    counts = dict(rows.order_by().values_list("band").annotate(n=Count("pk")).values_list("band", "n"))
    return {band: counts.get(band, 0) for band in TrustBand.values}


def state_for(*, viewer: Any, organisation: str, service: str) -> TrustState:
    """One pair's state by the organisation's and the service's public ids; 404 when the viewer may
    not see it or there is none (no evidence yet)."""
    state = states_visible(viewer=viewer).filter(organisation__public_id=organisation, service__public_id=service)
    found = state.first()
    if found is None:
        raise Http404("No trust for this organisation and service.")
    return found


def points_of(state: TrustState) -> QuerySet[TrustPoint]:
    return TrustPoint.objects.filter(organisation_id=state.organisation_id, service_id=state.service_id).order_by("day")


def trends_of(states: list[TrustState], weeks: int = TREND_WEEKS) -> dict[tuple[int, int], list[TrustPoint]]:
    """The last `weeks` weeks of points of each state (one query for a page of states): the sparklines."""
    if not states:
        return {}
    since = day_of(clock.now()) - timedelta(weeks=weeks)
    pairs = Q()
    for state in states:
        pairs |= Q(organisation_id=state.organisation_id, service_id=state.service_id)
    found: dict[tuple[int, int], list[TrustPoint]] = defaultdict(list)
    for point in TrustPoint.objects.filter(pairs, day__gte=since).order_by("day"):
        found[(point.organisation_id, point.service_id)].append(point)
    return found


# Weightless evidence (the volume rule's count of a week's answers and tickets): listed only when asked
# for by kind, or a busy relationship's log would be mostly "ticket opened".
WEIGHTLESS = (EvidenceKind.NEUTRAL_ANSWER, EvidenceKind.TICKET_OPENED)


def evidence_of(state: TrustState, kind: str = "") -> QuerySet[TrustEvidence]:
    """The pair's evidence log, newest first (the page and the API page through it): one kind, or
    every kind that weighs (the weightless ones only by their kind)."""
    rows = TrustEvidence.objects.filter(organisation_id=state.organisation_id, service_id=state.service_id)
    rows = rows.filter(kind=kind) if kind else rows.exclude(kind__in=WEIGHTLESS)
    return rows.select_related("incident").order_by("-day", "-pk")


def incidents_of(state: TrustState) -> dict[int, Incident]:
    """The incidents the state's majors name, by pk (one query): their reference and public id."""
    ids = [major["incident_id"] for major in state.majors if isinstance(major.get("incident_id"), int)]
    if not ids:
        return {}
    return {row.pk: row for row in Incident.objects.filter(pk__in=ids).only("pk", "public_id", "reference")}


# -- parameters ---------------------------------------------------------------------------------------


def parameter_sets() -> QuerySet[TrustParameterSet]:
    """Every version of the parameters, newest (the one in use) first."""
    return TrustParameterSet.objects.select_related("adopted_by").order_by("-version")


def current_version() -> int | None:
    """The version in use: the highest; None before the first state was computed (the defaults)."""
    return TrustParameterSet.objects.order_by("-version").values_list("version", flat=True).first()


def local_today() -> date:
    return day_of(clock.now())


# -- what a state says: the sentences of the page and the API ("explanations") ----------------------


def points_text(value: float | None) -> str:
    """Trust points as a page says them: +6, −18, +3.4 (a real minus sign; no ".0")."""
    if value is None:
        return "—"
    rounded = round(value, 1)
    if rounded == 0:
        return "0"
    text = f"{abs(rounded):.1f}".removesuffix(".0")
    return ("+" if rounded > 0 else "−") + text


def _sentence_start(label: str) -> str:
    return label[:1].upper() + label[1:]


def _major_sentence(contribution: dict[str, Any], major: dict[str, Any] | None, credit: dict[str, Any] | None) -> str:
    text = f"{_sentence_start(str(contribution.get('label', '')))}: {points_text(contribution.get('effect'))}"
    if major is None:
        return text
    if major.get("poor_communication"):
        return text + (
            "; communication was poor, so it earns no recovery credit and a further quarter of its weight counts against"
        )
    if major.get("resolved_at") is None:
        return text + "; recovery credit comes when it is resolved"
    earned = credit.get("effect") if credit is not None else major.get("credit_earned")
    pending = credit.get("pending") if credit is not None else major.get("credit_pending")
    text += f"; recovery credit earned {points_text(earned)}"
    if pending and round(float(pending), 1) > 0:
        text += f", pending {points_text(pending)} until review actions close"
    elif float(major.get("share_closed") or 0) >= 1:
        text += " (review actions closed)"
    return text


def explanations(state: TrustState) -> list[dict[str, Any]]:
    """The state's top contributions as sentences, largest effect first: "major incident MI-12: −18;
    recovery credit earned +6, pending +3 until review actions close", "Weeks with targets met (104):
    +30". A major incident's recovery credit is told with the incident, not on its own line.

    Reads TrustState.contributions and .majors exactly as trust_states.py stores them."""
    contributions = [c for c in state.contributions if isinstance(c, dict)]
    majors = {str(m.get("incident_key")): m for m in state.majors if isinstance(m, dict)}
    credits = {
        str(c["group"]).removeprefix("credit:"): c
        for c in contributions
        if str(c.get("group", "")).startswith("credit:")
    }
    told: set[str] = set()
    result = []
    for contribution in contributions:
        group = str(contribution.get("group", ""))
        if group.startswith("major:"):
            key = group.removeprefix("major:")
            told.add(key)
            text = _major_sentence(contribution, majors.get(key), credits.get(key))
        elif group.startswith("credit:"):
            key = group.removeprefix("credit:")
            if key in told or f"major:{key}" in {str(c.get("group")) for c in contributions}:
                continue
            text = f"{_sentence_start(str(contribution.get('label', '')))}: earned {points_text(contribution.get('effect'))}"
            pending = contribution.get("pending")
            if pending and round(float(pending), 1) > 0:
                text += f", pending {points_text(pending)} until review actions close"
        else:
            count = contribution.get("count")
            label = _sentence_start(str(contribution.get("label", "")))
            counted = f" ({count})" if isinstance(count, int) and count > 1 else ""
            text = f"{label}{counted}: {points_text(contribution.get('effect'))}"
        result.append({"group": group, "text": text, "effect": contribution.get("effect")})
    return result
