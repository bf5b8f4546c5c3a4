"""Experience's subscribers: every event that changes a counted row replaces the cells it touches.

Each subscriber finds the (service, day) cells of the rows named in the event and replaces them by a
recount (rollups.cells_refresh): arrivals, edits and deletions converge alike, and a repeat is harmless.
"""

from __future__ import annotations

from serviceloop.core.events import subscriber
from serviceloop.core.models import Event
from serviceloop.experience.rollups import (
    cells_of_invitations,
    cells_of_offering,
    cells_of_posts,
    cells_of_responses,
    cells_of_suppressed,
    cells_refresh,
    service_forget,
)


@subscriber("response.recorded", name="experience.rollups.response")
def rollups_response(event: Event) -> None:
    cells_refresh(cells_of_responses([event.data["response_id"]]))


@subscriber("responses.ingested", name="experience.rollups.responses")
def rollups_responses(event: Event) -> None:
    # One batch, each touched cell recounted once.
    cells_refresh(cells_of_responses(event.data["response_ids"]))


@subscriber("posts.recorded", name="experience.rollups.posts")
def rollups_posts(event: Event) -> None:
    cells_refresh(cells_of_posts(event.data["post_ids"]))


@subscriber("sentiment.corrected", name="experience.rollups.sentiment_corrected")
def rollups_sentiment_corrected(event: Event) -> None:
    if event.data.get("response_id"):
        cells_refresh(cells_of_responses([event.data["response_id"]]))
    if event.data.get("post_id"):
        cells_refresh(cells_of_posts([event.data["post_id"]]))


@subscriber("sentiment.rescored", name="experience.rollups.sentiment_rescored")
def rollups_sentiment_rescored(event: Event) -> None:
    cells_refresh(cells_of_responses(event.data.get("response_ids", [])))
    cells_refresh(cells_of_posts(event.data.get("post_ids", [])))


@subscriber("invitation.sent", name="experience.rollups.invitation")
def rollups_invitation(event: Event) -> None:
    cells_refresh(cells_of_invitations([event.data["invitation_id"]]))


@subscriber("invitation.suppressed", name="experience.rollups.suppressed")
def rollups_suppressed(event: Event) -> None:
    cells_refresh(cells_of_suppressed([event.data["suppressed_id"]]))


@subscriber("offering.deleted", name="experience.rollups.offering_deleted")
def rollups_offering_deleted(event: Event) -> None:
    # Its responses and invitations now have no offering: the cells that counted it are recounted.
    cells_refresh(cells_of_offering(event.data["offering_id"]))


@subscriber("service.deleted", name="experience.rollups.service_deleted")
def rollups_service_deleted(event: Event) -> None:
    service_forget(event.data["service_id"])


@subscriber("xla.state_changed", name="experience.alerts.xla_state_changed")
def alerts_xla_state_changed(event: Event) -> None:
    # Imported here: alerts and XLAs are later rooms of this app than the rollups above.
    from serviceloop.experience.alerts import alert_on_xla_change
    from serviceloop.experience.models import Xla

    xla = Xla.objects.select_related("service").filter(pk=event.data["xla_id"]).first()
    if xla is None:  # deleted with its service meanwhile: nothing to tell
        return
    # Events are delivered each on its own, retried, re-delivered: a change that is no longer the XLA's
    # latest (a later one happened, or it was archived) tells nothing about its state now.
    latest = xla.evaluations.order_by("-pk").values_list("pk", flat=True).first()
    if xla.status != Xla.Status.ACTIVE or latest != event.data.get("evaluation_id"):
        return
    alert_on_xla_change(
        service=xla.service,
        xla_label=xla.name,
        cause=f"xla:{xla.public_id}",
        from_state=event.data.get("from") or "",
        to_state=event.data["to"],
        figures=dict(event.data),
    )


# Trust's subscribers (evidence from the desk, incidents and feedback) live in their own room.
from serviceloop.experience import trust_receivers  # noqa: E402,F401
