"""The demo's rollups: the lower floors' demo rows are written set-wise (most without events), so the
rollups are rebuilt from them at the end.

The few events the product's own service functions did record while the demo was loaded (the
widget, QR, ingest and social-post channels) and that only the rollups wait for are settled set-wise
as delivered, dated when it was done: the rebuild that follows does exactly their work (a rollup
handler replaces its cells by a recount of the raw rows; the rebuild recounts every cell), so a demo
leaves no event waiting and does not refresh hundreds of cells one at a time first. Other apps'
events are theirs to deliver; an event that another app's subscriber also hears is completed here
only when that app's demo has settled its delivery (feedback's incident hook does).

Trust (docs/trust.md) is built the same way, after the rollups: the evidence the receivers would
have written is backfilled set-wise from the demo's rows (the same keys, so nothing is written
twice), then every relationship's state is replayed. The trust subscribers' deliveries of the
waiting events are among those settled above: the backfill does their work. The history it tells
(test_trust_demo.py): the organisations on email hit by the outage week's major incident drop and
earn part of it back (updates on cadence, the review's actions closed); Dunmore Council on payroll
is lowered by its many small failures (reopens, breaches); a relationship of years that no major
incident touched stands highest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import TypeVar

from serviceloop.core import clock
from serviceloop.core import demo_story as story
from serviceloop.core.cli import progress
from serviceloop.core.demo import DemoContext
from serviceloop.core.events import all_subscribers, event_dispatch
from serviceloop.core.models import Event, EventDelivery
from serviceloop.experience.rollups import rollups_rebuild

T = TypeVar("T")


def load(ctx: DemoContext) -> None:
    events = _ours_to_settle()
    now = clock.now()
    EventDelivery.objects.bulk_create(
        [
            EventDelivery(
                event_id=pk,
                subscriber=name,
                status=EventDelivery.Status.DELIVERED,
                attempts=1,
                last_attempt_at=now,
                delivered_at=now,
            )
            for pk, names in events.items()
            for name in names
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    Event.objects.filter(pk__in=list(events)).update(completed_at=now, next_attempt_at=None)

    def wrap(chunks: Iterator[tuple[date, date]], total: int) -> Iterable[tuple[date, date]]:
        return progress(chunks, total=total, desc="Rollups", enabled=ctx.progress, unit=" chunks")

    rollups_rebuild(wrap=wrap)
    _xlas()
    _trust(ctx)


def _trust(ctx: DemoContext) -> None:
    from serviceloop.experience.trust_evidence import evidence_backfill
    from serviceloop.experience.trust_states import states_recompute_all

    def evidence_wrap(items: Iterable[T], total: int) -> Iterable[T]:
        return progress(items, total=total, desc="Trust evidence", enabled=ctx.progress)

    def states_wrap(items: Iterable[T], total: int) -> Iterable[T]:
        return progress(items, total=total, desc="Trust", enabled=ctx.progress, unit=" relationships")

    evidence_backfill(wrap=evidence_wrap)
    states_recompute_all(wrap=states_wrap)


def _ours_to_settle() -> dict[int, list[str]]:
    """The waiting events whose subscribers are ours, or another app's that its own demo already
    settled as delivered (feedback's incident hook): event id → our subscribers of it."""
    table = all_subscribers()
    waiting = Event.objects.filter(completed_at__isnull=True, name__in=list(table))
    events = list(waiting.values_list("pk", "name"))
    done = set(
        EventDelivery.objects.filter(event__in=waiting, status=EventDelivery.Status.DELIVERED).values_list(
            "event_id", "subscriber"
        )
    )
    settle: dict[int, list[str]] = {}
    for pk, name in events:
        ours = [entry.name for entry in table[name] if entry.name.startswith("experience.")]
        others = [entry.name for entry in table[name] if not entry.name.startswith("experience.")]
        if ours and all((pk, other) in done for other in others):
            settle[pk] = ours
    return settle


# The demo's XLAs, beside the story (core/demo_story.py): the service desk's happiness after its new
# portal (met), email's since the outage (at risk or breached by the day), and the unhappy
# organisation's payroll relationship (breached), so the portfolio's XLA column and the alerts tell it.
DEMO_XLAS = [
    ("Service desk happiness", story.PORTAL_SERVICE, None, "happiness", "50"),
    ("Email happiness", story.OUTAGE_SERVICE, None, "happiness", "45"),
    ("Dunmore Council payroll happiness", story.UNHAPPY_SERVICE, story.UNHAPPY_ORGANISATION, "happiness", "20"),
]
# One organisation's answers are few: its XLA looks at a quarter (a month has fewer than the minimum sample).
DEMO_XLA_WINDOWS = {"Dunmore Council payroll happiness": "rolling_90"}


def _xlas() -> None:
    from decimal import Decimal

    from serviceloop.accounts.models import User
    from serviceloop.catalogue.models import Service
    from serviceloop.experience.xlas import xla_create
    from serviceloop.relationships.models import Relationship

    manager = User.objects.filter(role=User.Role.SERVICE_MANAGER, is_active=True).order_by("pk").first()
    if manager is None:
        return
    for name, slug, organisation, metric, target in DEMO_XLAS:
        service = Service.objects.filter(slug=slug).first()
        if service is None:
            continue
        relationship = None
        if organisation is not None:
            relationship = (
                Relationship.objects.filter(organisation__name=organisation, offering__service=service)
                .order_by("pk")
                .first()
            )
            if relationship is None:
                continue
            service = None
        xla_create(
            by=manager,
            name=name,
            service=service,
            relationship=relationship,
            metric=metric,
            target=Decimal(target),
            window=DEMO_XLA_WINDOWS.get(name, "rolling_30"),
        )
    # Their first states' events reach the alerts as the worker would deliver them.
    for event_id in Event.objects.filter(name="xla.state_changed", completed_at__isnull=True).values_list(
        "pk", flat=True
    ):
        event_dispatch(event_id=event_id)
