"""Staff reach every feedback page from the feedback start page and a service's stream."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from serviceloop.catalogue.tests.factories import make_service


def test_feedback_home_links_to_the_inbox_widgets_sources_and_sentiment(alex) -> None:
    client = Client()
    client.force_login(alex)
    html = client.get(reverse("feedback:home")).content.decode()
    for name in (
        "feedback:survey_list",
        "feedback:posts_inbox",
        "feedback:widget_sites",
        "feedback:post_sources",
        "feedback:sentiment",
    ):
        assert f'href="{reverse(name)}"' in html, name


def test_service_stream_links_to_its_posts_and_qr_code(alex, sam) -> None:
    service = make_service(by=sam)
    client = Client()
    client.force_login(alex)
    html = client.get(reverse("feedback:service_stream", args=[service.public_id])).content.decode()
    assert reverse("feedback:service_posts", args=[service.public_id]) in html
    assert reverse("feedback:service_qr", args=[service.public_id]) in html


def test_service_stream_cards_keep_each_figure_apart_from_its_label(alex, sam) -> None:
    """A card's number and its label are separate blocks ("Invitations sent25" was read before)."""
    import re

    service = make_service(by=sam)
    client = Client()
    client.force_login(alex)
    html = client.get(reverse("feedback:service_stream", args=[service.public_id])).content.decode()
    for label in ("invitations sent", "answered", "not invited"):
        assert re.search(
            rf'<div class="kpi">\d+[^<]*(<small>[^<]*</small>)?</div>\s*<div class="muted">{label}', html
        ), label
