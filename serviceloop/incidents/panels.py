"""Blocks the incidents app renders on lower apps' pages (core.links.ObjectPanel)."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from serviceloop.core.links import object_links
from serviceloop.incidents.queries_pages import ticket_link_of


def ticket_panel(ticket: Any, user: Any) -> str:
    """On the ticket page: the major incident it is linked to, or how to link or declare one."""
    link = ticket_link_of(ticket)
    links = [] if link is not None else [entry for entry in object_links(ticket, user) if "incident" in entry["label"]]
    return render_to_string("incidents/_ticket_panel.html", {"link": link, "links": links, "ticket": ticket})
