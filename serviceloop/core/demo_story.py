"""The story the demo's twelve months tell (pure data and arithmetic, no database).

- **A change that worked**: the service desk launches a new self-service portal (`Story.portal_on`, about
  five months ago). Before it, happiness sits near +20, tickets bounce between teams and people lose
  hours; after it, more tickets come through the portal, are resolved at first contact, happiness
  climbs to about +60 and lost time falls.
- **An outage**: email & collaboration is down for one working week (`Story.outage_from`, about ten
  weeks ago): three times the tickets, nearly all incidents at high priority, many negative answers
  about the outage and lost time spiking.
- **An unhappy organisation**: on payroll, one organisation (`Story.unhappy_organisation`) is far
  unhappier than the others; its tickets are reassigned and reopened more often.
- **A long steady relationship**: one organisation (`Story.steady_organisation`) has used ride booking
  for two years with few breaches and reopens and happy answers: trust's "long steady one" (docs/trust.md),
  beside the organisations the outage hit and Dunmore's many small failures on payroll.
- **Lost time in a few tickets**: most answers lose little or no time; a few negative ones lose hours
  or days, so about 13% of the tickets carry about 80% of the lost time (as HappySignals observed).

The relationships demo makes sure the unhappy organisation consumes payroll; the desk demo shapes the tickets by it (volumes, types, priorities, reassignments, first-contact
resolution) and the feedback demo the answers (scores, lost time, drivers, comments), so the desk's
figures and the experience tell the same story.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

DAYS = 365
PORTAL_SERVICE = "service-desk"
OUTAGE_SERVICE = "email-collaboration"
UNHAPPY_SERVICE = "payroll"
UNHAPPY_ORGANISATION = "Dunmore Council"
STEADY_SERVICE = "ride-booking"
STEADY_ORGANISATION = "Juniper Energy"
# (organisation name, service slug): relationships the story needs, made by the relationships demo
# when its draw did not (an active one, started before the twelve months).
STORY_RELATIONSHIPS = [(UNHAPPY_ORGANISATION, UNHAPPY_SERVICE), (STEADY_ORGANISATION, STEADY_SERVICE)]
# Tickets opened per week on average, by service slug; the two biggest services get enough answers
# every week for a weekly figure (n ≥ 30). A service not named gets DEFAULT_WEEKLY.
WEEKLY = {
    "service-desk": 160,
    "email-collaboration": 150,
    "payroll": 40,
    "vpn-remote-access": 30,
    "laptop-provisioning": 20,
    "ride-booking": 15,
    "parcel-delivery": 15,
}
DEFAULT_WEEKLY = 10
OUTAGE_VOLUME = 3.0  # tickets on the outage service during the outage, times the usual
WEEKEND = 0.15  # a weekend day's tickets, against a working day's
# Happiness (−100..+100) each service is experienced with, before the story's effects.
BASELINE = {
    "service-desk": 35,
    "email-collaboration": 50,
    "payroll": 50,
    "vpn-remote-access": 40,
    "laptop-provisioning": 45,
    "ride-booking": 55,
    "parcel-delivery": 50,
}
PORTAL_AFTER = 68  # the service desk's happiness once the portal is in use
PORTAL_RAMP_DAYS = 21  # from the launch to full effect
OUTAGE_HAPPINESS = -45
UNHAPPY_HAPPINESS = -5
STEADY_LIFT = 20  # the steady relationship's happiness, above its service's


@dataclass(frozen=True)
class Story:
    first_day: date  # the first day of the twelve months
    last_day: date  # yesterday: the last full day
    portal_on: date  # the self-service portal went live (a Monday)
    outage_from: date  # the outage's first day (a Monday)
    outage_to: date  # its last day (the Friday)
    portal_service: str = PORTAL_SERVICE
    outage_service: str = OUTAGE_SERVICE
    unhappy_service: str = UNHAPPY_SERVICE
    unhappy_organisation: str = UNHAPPY_ORGANISATION
    steady_service: str = STEADY_SERVICE
    steady_organisation: str = STEADY_ORGANISATION

    def is_steady(self, slug: str, organisation: str) -> bool:
        return slug == self.steady_service and organisation == self.steady_organisation

    def in_outage(self, slug: str, day: date) -> bool:
        return slug == self.outage_service and self.outage_from <= day <= self.outage_to

    def after_portal(self, slug: str, day: date) -> bool:
        return slug == self.portal_service and day >= self.portal_on

    def before_portal(self, slug: str, day: date) -> bool:
        return slug == self.portal_service and day < self.portal_on

    def tickets_expected(self, slug: str, day: date) -> float:
        """How many tickets the service gets on the day, on average."""
        weekly = WEEKLY.get(slug, DEFAULT_WEEKLY)
        working = weekly / (5 + 2 * WEEKEND)
        expected = working * (WEEKEND if day.weekday() >= 5 else 1.0) * seasonal(day)
        if self.in_outage(slug, day):
            expected *= OUTAGE_VOLUME
        return expected

    def happiness(self, slug: str, day: date, organisation: str) -> float:
        """The happiness (−100..+100) an answer about the service on the day leans to, before the ticket's own."""
        if self.in_outage(slug, day):
            return OUTAGE_HAPPINESS
        if slug == self.unhappy_service and organisation == self.unhappy_organisation:
            return UNHAPPY_HAPPINESS
        base = float(BASELINE.get(slug, 45))
        if self.is_steady(slug, organisation):
            base += STEADY_LIFT
        if self.after_portal(slug, day):
            share = min((day - self.portal_on).days / PORTAL_RAMP_DAYS, 1.0)
            base += (PORTAL_AFTER - base) * share
        # A gentle season: a little worse in the busy autumn, better in the summer.
        return base + 4 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 200) / 365)


def story_of(now: datetime) -> Story:
    """The story's dates for a demo loaded at `now`: the twelve months end yesterday."""
    today = now.date()
    last = today - timedelta(days=1)
    first = today - timedelta(days=DAYS)
    portal = today - timedelta(days=150)
    outage = today - timedelta(days=70)
    return Story(
        first_day=first,
        last_day=last,
        portal_on=portal - timedelta(days=portal.weekday()),
        outage_from=outage - timedelta(days=outage.weekday()),
        outage_to=outage - timedelta(days=outage.weekday()) + timedelta(days=4),
    )


def seasonal(day: date) -> float:
    """More tickets in autumn and winter, fewer in August and between Christmas and New Year."""
    factor = 1 + 0.1 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 320) / 365)
    if day.month == 8:
        factor *= 0.9
    if (day.month, day.day) >= (12, 24) or (day.month, day.day) <= (1, 1):
        factor *= 0.75
    return factor
