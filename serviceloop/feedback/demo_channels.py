"""Demo feedback beyond email: widget sites and their answers, QR pages, ingested responses, social posts.

Every row goes through the product's own service function for its channel (`widget_response_record`,
`qr_response_record`, `ingest_batch`, `posts_record`, `match_rule_create`), so validation, masking,
sentiment and matching are the real ones. Those functions stamp an answer with the clock's now; the
demo then dates each answer back to when it was given (at most four months ago, never later than now).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Service
from serviceloop.core.demo import DemoContext
from serviceloop.feedback.channel_guards import qr_client_key
from serviceloop.feedback.demo_answers import TICKET_FACTS
from serviceloop.feedback.demo_comments import (
    AUTHORS,
    DESK,
    GENERIC,
    MAIL,
    MATCH_RULES,
    PARCELS,
    PAYROLL,
    POSTS,
    TRANSPORT,
    UNMATCHED_POSTS,
    domain_of,
)
from serviceloop.feedback.models import Post, QrAnswerMark, QuestionKind, Response, WidgetSite, WidgetTicketUse
from serviceloop.feedback.questions import score_band
from serviceloop.feedback.services.channels import qr_response_record, widget_response_record, widget_site_create
from serviceloop.feedback.services.ingest import ingest_batch
from serviceloop.feedback.services.posts import (
    PostItem,
    match_rule_create,
    post_assign,
    post_dismiss,
    post_source_set,
    posts_record,
)
from serviceloop.relationships.models import Person

DAYS = 120
COMMENT_RATE = 0.4
# Score weights on each scale: most answers are good, a worse service's (ctx "feedback_worse", if a demo
# names one; the story's demo does not) less so.
WEIGHTS: dict[str, tuple[list[int], list[int]]] = {
    QuestionKind.HAPPINESS: ([1, 1, 1, 1, 2, 3, 4, 8, 14, 24, 30], [6, 5, 6, 7, 8, 10, 11, 12, 11, 9, 7]),
    QuestionKind.CSAT: ([3, 4, 8, 30, 55], [15, 18, 25, 24, 18]),
}
SCALE_START: dict[str, int] = {QuestionKind.HAPPINESS: 0, QuestionKind.CSAT: 1}
# (domain, site name, the origin that embeds it, question, answers)
WIDGET_SITES = [
    (DESK, "Intranet help page", "https://intranet.serviceloop.example", QuestionKind.HAPPINESS, 60),
    (TRANSPORT, "Trip receipt in the ride app", "https://rides.serviceloop.example", QuestionKind.CSAT, 50),
    (PAYROLL, "Payslip portal", "https://payslips.serviceloop.example", QuestionKind.CSAT, 40),
    (MAIL, "Webmail sign-out page", "https://mail.serviceloop.example", QuestionKind.HAPPINESS, 40),
]
# (domain, where the QR code hangs, answers): the public "How was it?" page, asked on happiness.
QR_PAGES = [(TRANSPORT, 35), (PARCELS, 35), (DESK, 20)]
# (source, what it is, domain, answers): systems that send responses to the ingest API.
INGEST_SOURCES = [("kiosk", DESK, 40), ("crm", PARCELS, 30), ("crm", TRANSPORT, 30)]
POST_SOURCES = ("mastodon", "trustpilot")
POST_URLS = {
    "x": "https://x.example/{author}/status/{n}",
    "mastodon": "https://mastodon.example/@{author}/{n}",
    "trustpilot": "https://trustpilot.example/reviews/{n}",
    "chat": "",
}


def load(ctx: DemoContext) -> None:
    services: list[Service] = [s for s in ctx.objects.get("services", []) if s.lifecycle == Service.Lifecycle.LIVE]
    staff = ctx.objects.get("staff", {})
    managers: list[User] = staff.get("service_manager", []) or staff.get("administrator", [])
    if not services or not managers:
        return
    by_domain: dict[str, Service] = {}
    for service in services:
        by_domain.setdefault(domain_of(service.slug, service.name), service)
    worse = ctx.objects.get("feedback_worse")
    dated = _Dated()
    _widgets(ctx, by_domain, managers[0], worse, dated)
    _qr_pages(ctx, by_domain, worse, dated)
    dated.save()
    _ingest(ctx, by_domain, managers[0], worse)
    _posts(ctx, by_domain, managers[0])


def _when(ctx: DemoContext, days: int = DAYS, service: Service | None = None) -> datetime:
    """An instant in the last `days` days, at least ten minutes before the demo's now; for a service, not
    in its outage (`core.demo_story`): a happy answer from the middle of it would not be true."""
    story = ctx.objects.get("story")
    while True:
        at = (ctx.now - timedelta(seconds=ctx.rng.uniform(600, days * 86400))).replace(microsecond=0)
        if story is None or service is None or not story.in_outage(service.slug, at.date()):
            return at


def _score(ctx: DemoContext, kind: str, service: Service, worse: Any) -> int:
    good, poor = WEIGHTS[kind]
    weights = poor if worse is not None and service.pk == worse.pk else good
    return SCALE_START[kind] + ctx.rng.choices(range(len(weights)), weights=weights)[0]


def _comment(ctx: DemoContext, service: Service, kind: str, score: int) -> str:
    if ctx.rng.random() >= COMMENT_RATE:
        return ""
    band = score_band(kind, score) or "neutral"
    # No ticket behind these answers: nothing that states a fact of one.
    pool = [text for text in GENERIC[domain_of(service.slug, service.name)][band] if text not in TICKET_FACTS]
    return str(ctx.rng.choice(pool))


@dataclass
class _Dated:
    """When each answer was given, with the widget ticket or QR mark written at the same instant."""

    responses: list[Response] = field(default_factory=list)
    nonces: dict[str, datetime] = field(default_factory=dict)
    clients: dict[str, datetime] = field(default_factory=dict)

    def add(self, response: Response, at: datetime) -> None:
        response.responded_at = response.created_at = at
        self.responses.append(response)

    def save(self) -> None:
        Response.objects.bulk_update(self.responses, ["responded_at", "created_at"], batch_size=500)
        # The used widget tickets and QR marks are the housekeeping's to forget; dated like their answers.
        uses = list(WidgetTicketUse.objects.filter(nonce__in=list(self.nonces)))
        for use in uses:
            use.created_at = self.nonces[use.nonce]
        WidgetTicketUse.objects.bulk_update(uses, ["created_at"], batch_size=500)
        marks = list(QrAnswerMark.objects.filter(client__in=list(self.clients)))
        for mark in marks:
            mark.answered_at = mark.created_at = self.clients[mark.client]
        QrAnswerMark.objects.bulk_update(marks, ["answered_at", "created_at"], batch_size=500)


def _widgets(ctx: DemoContext, by_domain: dict[str, Service], by: User, worse: Any, dated: _Dated) -> None:
    for domain, name, origin, question, count in WIDGET_SITES:
        service = by_domain.get(domain)
        if service is None:
            continue
        site = widget_site_create(name=name, service=service, allowed_origins=[origin], question=question, by=by)
        for _ in range(count):
            score = _score(ctx, question, service, worse)
            nonce = f"demo-{ctx.rng.getrandbits(96):024x}"
            response = widget_response_record(
                site=site, score=score, comment=_comment(ctx, service, question, score), ticket_nonce=nonce
            )
            at = _when(ctx, service=service)
            dated.add(response, at)
            dated.nonces[nonce] = at
    ctx.objects["widget_sites"] = list(WidgetSite.objects.order_by("pk"))


def _qr_pages(ctx: DemoContext, by_domain: dict[str, Service], worse: Any, dated: _Dated) -> None:
    kind = QuestionKind.HAPPINESS
    number = 0
    for domain, count in QR_PAGES:
        service = by_domain.get(domain)
        if service is None:
            continue
        for _ in range(count):
            number += 1
            score = _score(ctx, kind, service, worse)
            # A different phone for each answer (documentation addresses, RFC 5737).
            client = qr_client_key(
                address=f"203.0.113.{number % 250 + 1}",
                user_agent=f"Mozilla/5.0 (demo phone {number})",
                page=service.public_id,  # as the page names itself (views.channels._qr_client)
            )
            response = qr_response_record(
                service=service,
                offering=None,
                kind=kind,
                score=score,
                comment=_comment(ctx, service, kind, score),
                client=client,
            )
            at = _when(ctx, service=service)
            dated.add(response, at)
            dated.clients[client] = at


def _ingest(ctx: DemoContext, by_domain: dict[str, Service], by: User, worse: Any) -> None:
    """Responses another system sent to the ingest API: a reception kiosk, a CRM's account reviews."""
    people: list[Person] = [p for p in ctx.objects.get("people", []) if p.email]
    organisations = {o.pk: o for o in ctx.objects.get("organisations", [])}
    lines: list[str] = []
    kind = QuestionKind.HAPPINESS
    for source, domain, count in INGEST_SOURCES:
        service = by_domain.get(domain)
        if service is None:
            continue
        for _ in range(count):
            score = _score(ctx, kind, service, worse)
            item: dict[str, Any] = {
                "source": source,
                "external_id": f"{source}-{len(lines) + 1:05d}",
                "service": service.slug,
                "happiness": score,
                "comment": _comment(ctx, service, kind, score),
                "responded_at": _when(ctx, service=service).isoformat(),
            }
            if people and source == "crm":
                person = ctx.rng.choice(people)
                item["person_email"] = person.email
                if person.organisation_id in organisations:
                    item["organisation"] = organisations[person.organisation_id].public_id
            lines.append(json.dumps(item))
    if not lines:
        return
    report = ingest_batch(lines=lines, by=by)
    rows = list(Response.objects.filter(pk__in=report.response_ids))
    for row in rows:
        row.created_at = row.responded_at  # received as it was answered (the systems send as they go)
    Response.objects.bulk_update(rows, ["created_at"], batch_size=500)


def _posts(ctx: DemoContext, by_domain: dict[str, Service], by: User) -> None:
    """Match rules, post sources, and posts: most matched by the rules, some left in the inbox for triage."""
    for name in POST_SOURCES:
        post_source_set(name=name, secret=f"demo-{ctx.rng.getrandbits(128):032x}", by=by)
    for domain, rules in MATCH_RULES.items():
        service = by_domain.get(domain)
        if service is None:
            continue
        for kind, pattern in rules:
            match_rule_create(service=service, kind=kind, pattern=pattern, by=by)
    texts = [post for domain, posts in POSTS.items() if domain in by_domain for post in posts]
    texts += UNMATCHED_POSTS
    items = []
    for number, (source, kind, text) in enumerate(texts, start=1):
        author = ctx.rng.choice(AUTHORS)
        external_id = f"{ctx.rng.getrandbits(60)}"
        items.append(
            (
                number,
                PostItem(
                    source=source,
                    external_id=external_id,
                    kind=Post.Kind(kind),
                    author_handle=author,
                    url=POST_URLS[source].format(author=author, n=external_id),
                    text=text,
                    posted_at=_when(ctx, days=60),
                ),
            )
        )
    posts_record(items=items)
    _triage(ctx, by_domain, by)


def _triage(ctx: DemoContext, by_domain: dict[str, Service], by: User) -> None:
    """Someone already went through part of the inbox: the spam dismissed, a thank-you assigned."""
    desk = by_domain.get(DESK)
    triaged = []
    spam = Post.objects.filter(text__startswith="Win a free holiday").first()
    if spam is not None:
        triaged.append(post_dismiss(post=spam, by=by))
    thanks = Post.objects.filter(text__startswith="Huge thanks to the IT team").first()
    if thanks is not None and desk is not None:
        triaged.append(post_assign(post=thanks, service=desk, by=by))
    for post in triaged:
        at = min(post.posted_at + timedelta(hours=ctx.rng.uniform(1, 20)), ctx.now - timedelta(minutes=5))
        post.triaged_at = at
        post.dismissed_at = at if post.dismissed_at else None
    Post.objects.bulk_update(triaged, ["triaged_at", "dismissed_at"])
