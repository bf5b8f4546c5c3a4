"""The demo's rollups: the lower floors' demo rows are written set-wise (most without events), so the
rollups are rebuilt from them at the end, and the events their services did record are delivered."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from serviceloop.core.cli import progress
from serviceloop.core.demo import DemoContext
from serviceloop.core.events import all_subscribers, event_dispatch
from serviceloop.core.models import Event
from serviceloop.experience.rollups import rollups_rebuild


def load(ctx: DemoContext) -> None:
    # The events only the rollups wait for are delivered now, as the worker would: a demo leaves no
    # event waiting (and nothing dated after it was loaded). Others' events are theirs to deliver.
    ours = [
        name
        for name, entries in all_subscribers().items()
        if entries and all(entry.name.startswith("experience.") for entry in entries)
    ]
    pending = Event.objects.filter(completed_at__isnull=True, name__in=ours).order_by("pk")
    for event_id in pending.values_list("pk", flat=True):
        event_dispatch(event_id=event_id)

    def wrap(chunks: Iterator[tuple[date, date]], total: int) -> Iterable[tuple[date, date]]:
        return progress(chunks, total=total, desc="Rollups", enabled=ctx.progress, unit=" chunks")

    rollups_rebuild(wrap=wrap)
