"""Links to (and panels about) an object from higher apps, so a lower app's page shows them without importing them.

A service page (catalogue, floor 2) links to the service's tickets (desk) and feedback (feedback): each
higher app lists its links in `OBJECT_LINKS` of its `navigation.py`, and the lower page renders
`{% object_links service %}`. Each link names the model it is for, the route, how the object fills the
route (path arguments or query parameters, from the object's attributes) and the audience.

A panel (`OBJECT_PANELS`) is a small block a higher app renders on a lower app's page — on the ticket
page, feedback says whether a survey invitation went out or why not: it names a function
`(obj, user) -> str` (safe HTML, "" for nothing), rendered by `{% object_panels ticket %}`.

A mail part (`MAIL_PARTS`) is the same for a lower app's outgoing mail: the desk's resolution notice
asks `mail_parts("desk.ticket_resolved", ticket)` and carries what each higher app adds (feedback's
survey buttons), so the requester gets one mail, not one per app. A part's function runs inside the
transaction that queues the mail, so whatever it records (an invitation) commits with that mail or
not at all, and a retried delivery neither mails nor records twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape, format_html_join
from django.utils.module_loading import import_string
from django.utils.safestring import SafeString

from serviceloop.core.navigation import Audience, audiences_of, declared


@dataclass(frozen=True)
class ObjectLink:
    model: str  # "app_label.modelname", lower case
    label: str
    url_name: str
    args: tuple[str, ...] = ()  # attributes of the object passed as path arguments
    query: dict[str, str] = field(default_factory=dict)  # query parameter → attribute of the object
    constants: dict[str, str] = field(default_factory=dict)  # fixed query parameters
    audience: Audience = "staff"
    order: int = 100


@dataclass(frozen=True)
class ObjectPanel:
    model: str  # "app_label.modelname", lower case
    render: str  # dotted path of a function (obj, user) -> str: a rendered template, "" for nothing
    audience: Audience = "staff"
    order: int = 100


@dataclass(frozen=True)
class MailPart:
    mail: str  # which mail of a lower app, e.g. "desk.ticket_resolved"
    render: str  # dotted path of a function (obj) -> MailBlock | None; it may write (the mail's transaction)
    order: int = 100


@dataclass(frozen=True)
class MailBlock:
    """What a higher app adds to a lower app's mail: a plain-text and an HTML block, and headers."""

    text: str
    html: str  # safe HTML (a rendered template); anything else is escaped
    headers: dict[str, str] = field(default_factory=dict)


@cache
def _all_links() -> tuple[ObjectLink, ...]:
    # Static configuration read once per process, like the navigation.
    return tuple(
        sorted(
            (link for link in declared("OBJECT_LINKS") if isinstance(link, ObjectLink)),
            key=lambda link: (link.order, link.label),
        )
    )


@cache
def _all_panels() -> tuple[ObjectPanel, ...]:
    return tuple(
        sorted(
            (panel for panel in declared("OBJECT_PANELS") if isinstance(panel, ObjectPanel)),
            key=lambda panel: panel.order,
        )
    )


@cache
def _all_mail_parts() -> tuple[MailPart, ...]:
    return tuple(
        sorted(
            (part for part in declared("MAIL_PARTS") if isinstance(part, MailPart)),
            key=lambda part: part.order,
        )
    )


def mail_parts(mail: str, obj: Any) -> list[MailBlock]:
    """What higher apps add to the mail `mail` about `obj`; call it inside the transaction that queues it."""
    blocks = []
    for part in _all_mail_parts():
        if part.mail != mail:
            continue
        block = import_string(part.render)(obj)
        if block is not None:
            blocks.append(MailBlock(text=block.text, html=conditional_escape(block.html), headers=dict(block.headers)))
    return blocks


def object_panels(obj: Any, user: Any) -> SafeString:
    """The panels other apps render about this object, for this viewer, as one block of HTML."""
    model = f"{obj._meta.app_label}.{obj._meta.model_name}"
    audiences = audiences_of(user)
    parts = [
        import_string(panel.render)(obj, user)
        for panel in _all_panels()
        if panel.model == model and panel.audience in audiences
    ]
    # Rendered templates are safe strings and pass as they are; anything else would be escaped.
    return format_html_join("", "{}", ((part,) for part in parts if part))


def object_links(obj: Any, user: Any) -> list[dict[str, str]]:
    """The links other apps offer for this object, for this viewer: [{"label", "url"}]."""
    model = f"{obj._meta.app_label}.{obj._meta.model_name}"
    audiences = audiences_of(user)
    entries = []
    for link in _all_links():
        if link.model != model or link.audience not in audiences:
            continue
        try:
            url = reverse(link.url_name, args=[getattr(obj, name) for name in link.args])
        except NoReverseMatch:
            continue
        params = {**link.constants, **{key: str(getattr(obj, name)) for key, name in link.query.items()}}
        entries.append({"label": link.label, "url": f"{url}?{urlencode(params)}" if params else url})
    return entries
