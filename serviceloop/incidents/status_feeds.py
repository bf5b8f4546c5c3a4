"""Atom and RSS 2.0 feeds of the status page: one entry per public update of a public incident or
maintenance, newest first (Statuspage's history.atom and history.rss)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed, SyndicationFeed
from django.views.decorators.http import require_safe

from serviceloop.incidents import status
from serviceloop.incidents.models import IncidentUpdate

FEED_LIMIT = 50


class StatusRss(Feed):  # type: ignore[type-arg]
    feed_type: type[SyndicationFeed] = Rss201rev2Feed

    def title(self) -> str:
        return f"{settings.SERVICELOOP_STATUS_PAGE_NAME}: status history"

    def link(self) -> str:
        return reverse("status:page")

    def description(self) -> str:
        return f"Incidents and maintenance on {settings.SERVICELOOP_STATUS_PAGE_NAME}."

    def author_name(self) -> str:
        return str(settings.SERVICELOOP_STATUS_PAGE_NAME)

    def items(self) -> list[IncidentUpdate]:
        rows = status.public_updates().filter(incident__visibility=status.PUBLIC).select_related("incident")
        return list(rows[:FEED_LIMIT])

    def item_title(self, item: IncidentUpdate) -> str:
        return f"{item.incident.title}: {item.get_status_display()}"

    def item_description(self, item: IncidentUpdate) -> str:
        return item.body

    def item_link(self, item: IncidentUpdate) -> str:
        return reverse("status:incident", kwargs={"public_id": item.incident.public_id}) + f"#u-{item.public_id}"

    def item_guid(self, item: IncidentUpdate) -> str:
        return f"{status.incident_url(item.incident)}#u-{item.public_id}"

    def item_guid_is_permalink(self, item: IncidentUpdate) -> bool:
        return True

    def item_pubdate(self, item: IncidentUpdate) -> datetime:
        return item.display_at

    def item_updateddate(self, item: IncidentUpdate) -> datetime:
        return item.updated_at

    def item_author_name(self, item: IncidentUpdate) -> str:
        return str(settings.SERVICELOOP_STATUS_PAGE_NAME)


class StatusAtom(StatusRss):
    feed_type = Atom1Feed

    def subtitle(self) -> str:
        return self.description()


def _cached(feed: Feed) -> Callable[[HttpRequest], HttpResponse]:  # type: ignore[type-arg]
    @require_safe
    def view(request: HttpRequest) -> HttpResponse:
        response = feed(request)
        response["Cache-Control"] = f"public, max-age={settings.SERVICELOOP_STATUS_MAX_AGE}"
        response["Access-Control-Allow-Origin"] = "*"
        return response

    return view


history_rss = _cached(StatusRss())
history_atom = _cached(StatusAtom())
