"""Authorisation rows for the feedback channels pages and API (merged by tests/authz.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.authz_matrix import (
    PUBLIC_PAGE,
    STAFF_API,
    STAFF_PAGE,
    Endpoint,
    Page,
    World,
    expect,
    manager_post,
    staff_post,
)
from serviceloop.feedback.models import MatchRule, Post, PostSource, WidgetSite
from serviceloop.feedback.sentiment import ANALYSER_VERSION

TO_INBOX = staff_post("feedback:posts_inbox")
TO_SOURCES = manager_post("feedback:post_sources")
TO_SERVICE_POSTS = manager_post("feedback:service_posts")
TO_WIDGET_SITE = manager_post("feedback:widget_site")
CREATED_BY_STAFF = expect(anonymous=401, customer_a=403, agent=201)
# The webhook is authenticated by its signature, not by a user: every caller with a valid one is served.
SIGNED = expect(anonymous=200, customer_a=200, agent=200)

WEBHOOK_SECRET = "authz-webhook-secret-0123456789"
WEBHOOK_BODY = {
    "posts": [{"external_id": "authz-1", "text": "@authzdesk is down", "posted_at": "2026-11-24T10:00:00Z"}]
}
_WEBHOOK_SIGNATURE = (
    "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), json.dumps(WEBHOOK_BODY).encode(), hashlib.sha256).hexdigest()
)


def build(world: World) -> None:
    service = Service.objects.create(
        name="Channels Desk", slug="authz-channels-desk", service_manager=world.users["manager"], lifecycle="live"
    )
    world.channels_service = service
    world.channels_offering = Offering.objects.create(service=service, name="Counter", slug="counter")
    world.widget_site = WidgetSite.objects.create(
        name="Intranet", service=service, allowed_origins=["https://intranet.acme.example"]
    )
    world.match_rule = MatchRule.objects.create(service=service, kind="handle", pattern="authzdesk")
    world.post_source = PostSource.objects.create(name="authz-hook", secret=WEBHOOK_SECRET)
    world.inbox_post = Post.objects.create(
        source="x",
        external_id="authz-inbox",
        text="Something about a desk",
        posted_at=datetime(2026, 11, 20, tzinfo=UTC),
        sentiment_score=0.1,
        sentiment_label="neutral",
        sentiment_version=ANALYSER_VERSION,
    )


def _ingest_line(world: World, external_id: str = "authz-1") -> dict[str, object]:
    return {"source": "authz", "external_id": external_id, "service": world.channels_service.slug, "happiness": 9}


PAGES: list[Page] = [
    Page("feedback:widget_frame", PUBLIC_PAGE, kwargs=lambda w: {"key": w.widget_site.key}),
    # An answer that comes from no allowed origin (and carries no signed form ticket) is refused for everyone.
    Page(
        "feedback:widget_frame",
        expect(anonymous=403, customer_a=403, agent=403),
        kwargs=lambda w: {"key": w.widget_site.key},
        method="POST",
        data=lambda w: {"score": 9},
    ),
    Page("feedback:qr_public", PUBLIC_PAGE, kwargs=lambda w: {"service_id": w.channels_service.public_id}),
    Page(
        "feedback:qr_public",
        PUBLIC_PAGE,
        kwargs=lambda w: {"service_id": w.channels_service.public_id},
        method="POST",
        data=lambda w: {"score": 9},
    ),
    Page(
        "feedback:qr_public_offering",
        PUBLIC_PAGE,
        kwargs=lambda w: {"service_id": w.channels_service.public_id, "offering_id": w.channels_offering.public_id},
    ),
    Page(
        "feedback:qr_public_offering",
        PUBLIC_PAGE,
        kwargs=lambda w: {"service_id": w.channels_service.public_id, "offering_id": w.channels_offering.public_id},
        method="POST",
        data=lambda w: {"score": 7, "comment": "Quick at the counter."},
    ),
    Page("feedback:widget_sites", STAFF_PAGE),
    Page(
        "feedback:widget_sites",
        TO_WIDGET_SITE,
        method="POST",
        data=lambda w: {
            "name": "Help centre",
            "service": w.channels_service.public_id,
            "allowed_origins": "https://help.acme.example",
            "question": "csat",
        },
    ),
    Page("feedback:widget_site", STAFF_PAGE, kwargs=lambda w: {"key": w.widget_site.key}),
    Page(
        "feedback:widget_site",
        TO_WIDGET_SITE,
        kwargs=lambda w: {"key": w.widget_site.key},
        method="POST",
        data=lambda w: {
            "name": "Intranet help",
            "service": w.channels_service.public_id,
            "allowed_origins": "https://intranet.acme.example",
            "question": "happiness",
            "is_active": "on",
        },
    ),
    Page("feedback:service_qr", STAFF_PAGE, kwargs=lambda w: {"public_id": w.channels_service.public_id}),
    Page("feedback:service_posts", STAFF_PAGE, kwargs=lambda w: {"public_id": w.channels_service.public_id}),
    Page(
        "feedback:service_posts",
        TO_SERVICE_POSTS,
        kwargs=lambda w: {"public_id": w.channels_service.public_id},
        method="POST",
        data=lambda w: {"kind": "hashtag", "pattern": "#authzdesk"},
    ),
    Page(
        "feedback:match_rule_delete",
        TO_SERVICE_POSTS,
        kwargs=lambda w: {"public_id": w.channels_service.public_id, "pk": w.match_rule.pk},
        method="POST",
    ),
    Page("feedback:posts_inbox", STAFF_PAGE),
    Page("feedback:post_sources", STAFF_PAGE),
    Page(
        "feedback:post_sources",
        TO_SOURCES,
        method="POST",
        data=lambda w: {"name": "mastodon", "secret": "a-shared-secret-of-32-characters"},
    ),
    Page("feedback:post_source_delete", TO_SOURCES, kwargs=lambda w: {"name": w.post_source.name}, method="POST"),
    Page(
        "feedback:post_assign",
        TO_INBOX,
        kwargs=lambda w: {"public_id": w.inbox_post.public_id},
        method="POST",
        data=lambda w: {"service": w.channels_service.public_id},
    ),
    Page("feedback:post_dismiss", TO_INBOX, kwargs=lambda w: {"public_id": w.inbox_post.public_id}, method="POST"),
    Page("feedback:sentiment", STAFF_PAGE),
    # Recalibrating the thresholds is for service managers.
    Page("feedback:sentiment", manager_post("feedback:sentiment"), method="POST"),
    Page(
        "feedback:sentiment_correct",
        TO_INBOX,
        kwargs=lambda w: {"subject": "post", "public_id": w.inbox_post.public_id},
        method="POST",
        data=lambda w: {"label": "negative"},
    ),
]

ENDPOINTS: list[Endpoint] = [
    Endpoint("POST", "/api/feedback/ingest", CREATED_BY_STAFF, body=_ingest_line),
    Endpoint(
        "POST",
        "/api/feedback/ingest/batch",
        expect(anonymous=401, customer_a=403, agent=200),
        body=lambda w: "\n".join(json.dumps(_ingest_line(w, f"authz-{n}")) for n in range(3)),
        content_type="application/x-ndjson",
    ),
    Endpoint("GET", "/api/feedback/posts", STAFF_API),
    Endpoint(
        "POST",
        "/api/feedback/posts",
        CREATED_BY_STAFF,
        body=lambda w: {
            "source": "x",
            "external_id": "authz-api",
            "text": "hello",
            "posted_at": "2026-11-24T10:00:00Z",
        },
    ),
    Endpoint(
        "POST",
        "/api/feedback/posts/webhook",
        SIGNED,
        body=lambda w: WEBHOOK_BODY,
        extra={"HTTP_X_SERVICELOOP_SOURCE": "authz-hook", "HTTP_X_SERVICELOOP_SIGNATURE": _WEBHOOK_SIGNATURE},
    ),
]
