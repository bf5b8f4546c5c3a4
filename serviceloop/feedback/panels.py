"""Blocks feedback renders on lower apps' pages (core.links.ObjectPanel): on the ticket page, whether a
survey invitation went out for the ticket, what came of it, or why none was sent."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from serviceloop.feedback.models import Invitation, Response, SuppressedInvitation


def ticket_survey(ticket: Any, user: Any) -> str:
    invitation = (
        Invitation.objects.filter(ticket=ticket).select_related("survey_version", "person").order_by("-sent_at").first()
    )
    response = Response.objects.filter(invitation=invitation).first() if invitation is not None else None
    suppressed = (
        SuppressedInvitation.objects.filter(ticket=ticket).order_by("-created_at").first()
        if invitation is None
        else None
    )
    score = None
    if response is not None and invitation is not None:
        score = getattr(response, invitation.survey_version.score_kind, None)
    return render_to_string(
        "feedback/_ticket_survey_panel.html",
        {"ticket": ticket, "invitation": invitation, "response": response, "score": score, "suppressed": suppressed},
    )
