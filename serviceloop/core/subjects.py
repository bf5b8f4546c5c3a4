"""Where the event log links an event's subject: a registry that higher apps fill.

Core stands below every app, so it cannot import a ticket or a service to build its URL. An app
names the page of each kind of row it records events about, from its `AppConfig.ready()`:

    subject_page("desk.ticket", "desk:ticket")

The page's URL must take the row's `public_id` as its one argument. Like the subscriber table, this
holds code (names), not state: every process fills the same table at start-up.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

_PAGES: dict[str, str] = {}


def subject_page(subject_type: str, url_name: str) -> None:
    """Link events about `subject_type` (an `app_label.model` label) to the page `url_name`."""
    _PAGES[subject_type] = url_name


def subject_url(subject_type: str, public_id: str | None) -> str | None:
    url_name = _PAGES.get(subject_type)
    if url_name is None or not public_id:
        return None
    try:
        return reverse(url_name, kwargs={"public_id": public_id})
    except NoReverseMatch:
        return None
