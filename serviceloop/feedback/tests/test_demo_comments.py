"""The demo's comment pools fit their services and their scores, and its posts fit the matching rules (pure)."""

from __future__ import annotations

import pytest

from serviceloop.catalogue.demo import SERVICES
from serviceloop.feedback import demo_comments
from serviceloop.feedback.demo_comments import (
    COMMENTS,
    MATCH_RULES,
    POSTS,
    UNMATCHED_POSTS,
    domain_of,
)
from serviceloop.feedback.post_match import Matcher, Rule
from serviceloop.feedback.sentiment import score_text


def _slug(name: str) -> str:
    from django.utils.text import slugify

    return slugify(name)


@pytest.mark.parametrize(
    ("name", "domain"),
    [
        ("Ride booking", demo_comments.TRANSPORT),
        ("Email & collaboration", demo_comments.MAIL),
        ("Payroll", demo_comments.PAYROLL),
        ("Laptop provisioning", demo_comments.DEVICES),
        ("VPN remote access", demo_comments.REMOTE),
        ("Parcel delivery", demo_comments.PARCELS),
        ("Service desk", demo_comments.DESK),
        ("Video conferencing rooms", demo_comments.MEETINGS),
        ("Travel", demo_comments.TRANSPORT),
        ("Facilities", demo_comments.DESK),
    ],
)
def test_a_service_gets_the_comment_domain_its_slug_names(name: str, domain: str) -> None:
    assert domain_of(_slug(name), name) == domain


def test_every_demo_service_has_a_domain_of_its_own() -> None:
    domains = [domain_of(_slug(spec["name"]), spec["name"]) for spec in SERVICES]
    assert len(set(domains)) == len(domains), domains


@pytest.mark.parametrize("domain", sorted(COMMENTS))
def test_the_analyser_agrees_with_each_pool_of_comments(domain: str) -> None:
    pools = COMMENTS[domain]
    assert all(pools[band] for band in ("positive", "neutral", "negative"))
    wrong = [
        (band, text, score_text(text).label.value)
        for band, texts in pools.items()
        for text in texts
        if score_text(text).label.value not in ({"positive", "neutral"} if band == "neutral" else {band})
    ]
    assert not wrong


def test_each_domains_posts_are_matched_by_its_rules_and_no_others() -> None:
    domains = sorted(MATCH_RULES)
    rules = [
        Rule(service_id=index, kind=kind, pattern=pattern)
        for index, domain in enumerate(domains)
        for kind, pattern in MATCH_RULES[domain]
    ]
    matcher = Matcher(rules)
    for index, domain in enumerate(domains):
        for _, _, text in POSTS[domain]:
            assert matcher.services_for(text) == {index}, text
    for _, _, text in UNMATCHED_POSTS:
        assert matcher.services_for(text) == set(), text
    assert set(POSTS) <= set(MATCH_RULES)
