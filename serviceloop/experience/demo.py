"""The demo's rollups: the lower floors' demo rows are written set-wise (most without events), so the
rollups are rebuilt from them at the end.

The few events the product's own service functions did record while the demo was loaded (the
widget, QR, ingest and social-post channels) and that only the rollups wait for are settled set-wise
as delivered, dated when it was done: the rebuild that follows does exactly their work (a rollup
handler replaces its cells by a recount of the raw rows; the rebuild recounts every cell), so a demo
leaves no event waiting and does not refresh hundreds of cells one at a time first. Other apps'
events are theirs to deliver.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from serviceloop.core import clock
from serviceloop.core.cli import progress
from serviceloop.core.demo import DemoContext
from serviceloop.core.events import all_subscribers
from serviceloop.core.models import Event, EventDelivery
from serviceloop.experience.rollups import rollups_rebuild


def load(ctx: DemoContext) -> None:
    ours = {
        name: entries
        for name, entries in all_subscribers().items()
        if entries and all(entry.name.startswith("experience.") for entry in entries)
    }
    pending = Event.objects.filter(completed_at__isnull=True, name__in=list(ours))
    events = list(pending.values_list("pk", "name"))
    now = clock.now()
    EventDelivery.objects.bulk_create(
        [
            EventDelivery(
                event_id=pk,
                subscriber=entry.name,
                status=EventDelivery.Status.DELIVERED,
                attempts=1,
                last_attempt_at=now,
                delivered_at=now,
            )
            for pk, name in events
            for entry in ours[name]
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    Event.objects.filter(pk__in=[pk for pk, _ in events]).update(completed_at=now, next_attempt_at=None)

    def wrap(chunks: Iterator[tuple[date, date]], total: int) -> Iterable[tuple[date, date]]:
        return progress(chunks, total=total, desc="Rollups", enabled=ctx.progress, unit=" chunks")

    rollups_rebuild(wrap=wrap)
