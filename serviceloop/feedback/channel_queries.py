"""Reads for the channels: posts, the inbox, widget sites, matching rules, sentiment corrections.

Posts, widget sites and rules are about services, not about one organisation: staff only.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404

from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.visibility import require_staff
from serviceloop.feedback.models import MatchRule, Post, PostSource, Response, SentimentCorrection, WidgetSite


def _posts() -> QuerySet[Post]:
    return Post.objects.prefetch_related(
        Prefetch("services", queryset=Service.objects.only("pk", "public_id", "name", "slug"))
    )


def posts_of(*, viewer: object, service: Service | None = None, inbox: bool | None = None) -> QuerySet[Post]:
    require_staff(viewer)
    posts = _posts()
    if service is not None:
        posts = posts.filter(services=service)
    if inbox is True:
        posts = posts.filter(matched=False, dismissed_at__isnull=True)
    elif inbox is False:
        posts = posts.exclude(matched=False, dismissed_at__isnull=True)
    return posts.order_by("-posted_at", "-pk")


def post_inbox(*, viewer: object) -> QuerySet[Post]:
    return posts_of(viewer=viewer, inbox=True)


def post_for(*, viewer: object, public_id: str) -> Post:
    require_staff(viewer)
    post = _posts().filter(public_id=public_id).first()
    if post is None:
        raise Http404("No such post.")
    return post


def service_for(*, viewer: object, public_id: str) -> Service:
    require_staff(viewer)
    service = Service.objects.filter(public_id=public_id).first()
    if service is None:
        raise Http404("No such service.")
    return service


def services_for_choice() -> QuerySet[Service]:
    return Service.objects.only("pk", "public_id", "name").order_by("name")


def public_service(*, public_id: str, offering_public_id: str | None = None) -> tuple[Service, Offering | None]:
    """The service (and offering) of a public "How was it?" page; retired services have none."""
    service = Service.objects.exclude(lifecycle=Service.Lifecycle.RETIRED).filter(public_id=public_id).first()
    if service is None:
        raise Http404("No such service.")
    offering = None
    if offering_public_id is not None:
        offering = Offering.objects.filter(service=service, public_id=offering_public_id).first()
        if offering is None:
            raise Http404("No such offering.")
    return service, offering


def public_widget_site(*, key: str) -> WidgetSite:
    site = WidgetSite.objects.select_related("service", "offering").filter(key=key, is_active=True).first()
    if site is None:
        raise Http404("No such widget.")
    return site


def widget_sites(*, viewer: object) -> QuerySet[WidgetSite]:
    require_staff(viewer)
    return WidgetSite.objects.select_related("service", "offering").order_by("service__name", "name")


def widget_site_for(*, viewer: object, key: str) -> WidgetSite:
    require_staff(viewer)
    site = WidgetSite.objects.select_related("service", "offering").filter(key=key).first()
    if site is None:
        raise Http404("No such widget site.")
    return site


def match_rules_of(*, viewer: object, service: Service) -> QuerySet[MatchRule]:
    require_staff(viewer)
    return MatchRule.objects.filter(service=service).order_by("kind", "pattern")


def match_rule_for(*, viewer: object, service: Service, pk: int) -> MatchRule:
    require_staff(viewer)
    rule = MatchRule.objects.filter(service=service, pk=pk).first()
    if rule is None:
        raise Http404("No such rule.")
    return rule


def post_sources(*, viewer: object) -> QuerySet[PostSource]:
    require_staff(viewer)
    return PostSource.objects.order_by("name")


def post_source_for(*, viewer: object, name: str) -> PostSource:
    require_staff(viewer)
    source = PostSource.objects.filter(name=name).first()
    if source is None:
        raise Http404("No such source.")
    return source


def sentiment_corrections(*, viewer: object) -> QuerySet[SentimentCorrection]:
    require_staff(viewer)
    return SentimentCorrection.objects.select_related("by").order_by("-created_at", "-pk")


def corrections_by_label(*, viewer: object) -> dict[tuple[str, str], int]:
    """(original label, corrected label) → how many corrections: where the analyser errs."""
    require_staff(viewer)
    rows = SentimentCorrection.objects.values("original_label", "corrected_label").annotate(n=Count("pk"))
    return {(row["original_label"], row["corrected_label"]): row["n"] for row in rows}


def response_for_correction(*, viewer: object, public_id: str) -> Response:
    """A response whose comment label staff may correct (staff see every organisation's)."""
    require_staff(viewer)
    response = Response.objects.filter(public_id=public_id).first()
    if response is None:
        raise Http404("No such response.")
    return response
