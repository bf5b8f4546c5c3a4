"""The desk's reactions to lower floors' events (registered in DeskConfig.ready()).

A ticket's search document holds its requester's name and email and its organisation's name
(desk.search), copied there so that one GIN index answers a search. When relationships or accounts
change one of those, the documents of the tickets concerned are refreshed here, in the worker, after
the change committed; a delivery that runs twice writes the same documents again.
"""

from __future__ import annotations

from serviceloop.core.events import subscriber
from serviceloop.core.models import Event
from serviceloop.desk.search import search_reindex_organisation, search_reindex_requester

# The fields of a person and an organisation that are part of a ticket's search document.
PERSON_SEARCHED = {"name", "email"}
ORGANISATION_SEARCHED = {"name"}


@subscriber("person.updated", name="desk.search.person_updated")
def on_person_updated(event: Event) -> None:
    if PERSON_SEARCHED & set(event.data.get("changed") or []):
        search_reindex_requester(person_id=event.data["person_id"])


@subscriber("organisation.updated", name="desk.search.organisation_updated")
def on_organisation_updated(event: Event) -> None:
    if ORGANISATION_SEARCHED & set(event.data.get("changed") or []):
        search_reindex_organisation(organisation_id=event.data["organisation_id"])
