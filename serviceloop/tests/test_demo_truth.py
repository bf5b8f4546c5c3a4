"""The demo tells the truth: nothing dated in the future, comments that fit their service and score,
every answering channel present, and posts matched to services by the real matcher.

The demo is built once for the module (in a transaction rolled back at the end); each test reads it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from django.apps import apps
from django.db import models, transaction
from django.db.models import Count, Max
from django.test import override_settings

from serviceloop.core import clock
from serviceloop.core.demo import DemoContext
from serviceloop.demo import load_demo

# Instants that are deadlines by meaning: due in the future is what they are for.
DEADLINES = {
    ("desk.Ticket", "first_response_due_at"): "the first response is due (open tickets)",
    ("desk.Ticket", "first_response_warn_at"): "the SLA warning is ahead (open tickets)",
    ("desk.Ticket", "resolution_due_at"): "the resolution is due (open tickets)",
    ("desk.Ticket", "resolution_warn_at"): "the SLA warning is ahead (open tickets)",
    ("feedback.Invitation", "expires_at"): "an invitation sent lately can still be answered",
    ("core.OutgoingMail", "retry_until"): "a mail the demo queued (an XLA's alert) is retried until then",
    ("incidents.Incident", "scheduled_for"): "a maintenance planned for the coming days starts then",
    ("incidents.Incident", "scheduled_until"): "and ends then",
    ("incidents.Incident", "eta"): "the open incident's recovery is expected then",
    ("incidents.RecoveryStep", "eta"): "a step of the open incident's recovery plan is due then",
    ("incidents.EtaChange", "eta"): "the ETA the open incident was given",
    ("incidents.IncidentUpdate", "next_update_at"): "the open incident's last update promises the next one",
    ("incidents.AudiencePlan", "next_due_at"): "the open incident's next update is due then",
}


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[DemoContext]:
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        ctx = load_demo(seed=42)
        yield ctx
        transaction.set_rollback(True)


def _datetime_fields() -> Iterator[tuple[type[models.Model], str]]:
    for model in apps.get_models():
        if not model.__module__.startswith("serviceloop."):
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.DateTimeField):
                yield model, field.name


def test_no_demo_row_is_dated_after_the_demo_was_loaded(demo: DemoContext, db: Any) -> None:
    now = clock.now()
    later: dict[str, datetime] = {}
    walked = set()
    for model, name in _datetime_fields():
        walked.add((model._meta.label, name))
        if (model._meta.label, name) in DEADLINES:
            continue
        latest = model.objects.aggregate(latest=Max(name))["latest"]
        if latest is not None and latest > now:
            later[f"{model._meta.label}.{name}"] = latest
    assert not later, later
    assert set(DEADLINES) <= walked, "a deadline above names a field that no longer exists"
    assert len(walked) > 40  # the walk reached every app's tables


def test_every_comment_fits_its_service_and_its_score(demo: DemoContext, db: Any) -> None:
    from serviceloop.feedback.demo_comments import COMMENTS, TRANSPORT, domain_of
    from serviceloop.feedback.models import Response
    from serviceloop.feedback.questions import score_band

    misfits, opposite, by_channel = [], [], Counter()
    for response in Response.objects.exclude(comment="").select_related("service"):
        band = score_band(response.score_kind or "", response.score) or "neutral"
        pool = COMMENTS[domain_of(response.service.slug, response.service.name)][band]
        if response.comment not in pool:
            misfits.append((response.service.name, response.score, response.comment))
        if {band, response.sentiment_label} == {"positive", "negative"}:
            opposite.append((response.score, response.comment))
        by_channel[response.channel] += 1
    assert not misfits[:5] and not opposite[:5]
    assert set(by_channel) == {"email", "widget", "qr", "ingest"}
    rides = Response.objects.filter(service__slug="ride-booking").exclude(comment="")
    transport = {text for texts in COMMENTS[TRANSPORT].values() for text in texts}
    assert rides.count() > 20
    assert set(rides.values_list("comment", flat=True)) <= transport


def test_every_answering_channel_has_responses(demo: DemoContext, db: Any) -> None:
    from serviceloop.feedback.models import Response, WidgetSite

    counts = dict(Response.objects.values_list("channel").annotate(n=Count("pk")))
    assert all(counts.get(channel, 0) > 0 for channel in ("email", "widget", "qr", "ingest")), counts
    sources = set(Response.objects.filter(channel="ingest").values_list("source", flat=True))
    assert sources == {"kiosk", "crm"}
    sites = WidgetSite.objects.annotate(n=Count("service__responses")).order_by("pk")
    assert sites.count() >= 3
    for site in sites:
        assert Response.objects.filter(channel="widget", source=site.key, service=site.service).exists(), site.name
    # Scores of every scale a widget asks on, each within its range (the widget service refused nothing).
    assert Response.objects.filter(channel="widget", csat__isnull=False).exists()
    assert Response.objects.filter(channel="qr", happiness__isnull=False).count() > 20


def test_matched_posts_have_exactly_the_services_the_matcher_finds(demo: DemoContext, db: Any) -> None:
    from serviceloop.feedback.models import MatchRule, Post
    from serviceloop.feedback.post_match import Matcher, Rule
    from serviceloop.feedback.sentiment import score_text

    matcher = Matcher(
        Rule(rule.service_id, rule.kind, rule.pattern, rule.case_sensitive) for rule in MatchRule.objects.all()
    )
    untriaged = Post.objects.filter(triaged_by__isnull=True).prefetch_related("services")
    assert untriaged.count() > 20
    for post in untriaged:
        found = matcher.services_for(post.text, post.author_handle)
        assert {service.pk for service in post.services.all()} == found, post.text
        assert post.matched == bool(found)
        assert post.sentiment_label == score_text(post.text).label.value
    assert untriaged.filter(matched=True).count() >= 20
    inbox = Post.objects.filter(matched=False, dismissed_at__isnull=True)
    assert inbox.count() >= 5
    assert {"positive", "negative", "neutral"} <= set(Post.objects.values_list("sentiment_label", flat=True))
    assert all(post.author_handle for post in Post.objects.all())
    assert Post.objects.filter(text__contains="#").exists() and Post.objects.filter(text__contains="@").exists()
    # Part of the inbox was already triaged by a person: one dismissed, one assigned by hand.
    assert Post.objects.filter(triaged_by__isnull=False, dismissed_at__isnull=False).count() == 1
    assert Post.objects.filter(triaged_by__isnull=False, matched=True).count() == 1


def test_the_feedback_pages_of_the_demo_show_its_channels_and_posts(demo: DemoContext, db: Any) -> None:
    from django.test import Client
    from django.urls import reverse
    from django.utils.html import escape

    from serviceloop.accounts.models import User
    from serviceloop.catalogue.models import Service
    from serviceloop.feedback.demo_comments import COMMENTS, TRANSPORT
    from serviceloop.feedback.models import Post, WidgetSite

    client = Client()
    client.force_login(User.objects.get(email="manager@serviceloop.demo"))
    rides = Service.objects.get(slug="ride-booking")

    def page(name: str, *args: str) -> str:
        answer = client.get(reverse(f"feedback:{name}", args=args))
        assert answer.status_code == 200, name
        return answer.content.decode()

    home = page("home")
    totals = dict(re.findall(r'<td class="num" data-channel="([^"]+)">(\d+)</td>', home))
    assert all(int(totals[label]) > 0 for label in ("Email", "Widget", "QR code", "Ingest")), totals
    inbox = page("posts_inbox")
    waiting = Post.objects.filter(matched=False, dismissed_at__isnull=True)
    assert waiting.exists() and all(post.handle_shown in inbox for post in waiting)
    widgets = page("widget_sites")
    assert all(site.name in widgets for site in WidgetSite.objects.all())
    posts = page("service_posts", rides.public_id)
    assert "ridesbydemo" in posts and rides.posts.exists()
    stream = page("service_stream", rides.public_id)
    transport = [text for texts in COMMENTS[TRANSPORT].values() for text in texts]
    assert any(escape(text) in stream for text in transport)


def test_the_major_incidents_surveys_and_reviews_agree_with_the_answers(demo: DemoContext, db: Any) -> None:
    from serviceloop.feedback.models import Invitation, Trigger
    from serviceloop.feedback.services.incident_feedback import incident_lost_answers
    from serviceloop.incidents.models import MAJOR_SEVERITIES, AffectedOrganisation, Incident, Review

    reviews = list(Review.objects.all())
    assert len(reviews) >= 3
    for review in reviews:
        assert (review.lost_minutes, review.lost_responses) == incident_lost_answers(review.incident_id), review
    assert all(review.lost_responses > 0 for review in reviews)
    resolved_majors = Incident.objects.filter(severity__in=MAJOR_SEVERITIES, status=Incident.Status.RESOLVED)
    assert Invitation.objects.filter(trigger=Trigger.MAJOR_INCIDENT, incident__in=resolved_majors).count() >= 10
    assert not AffectedOrganisation.objects.filter(incident__in=resolved_majors, survey_offered_at=None).exists()
