"""Overlapping ingest batches and post deliveries sent at the same time: both answer 2xx with exact
counts, every (source, external_id) is stored once, nothing is half-written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from serviceloop.accounts.testing import api_client_for, at_once
from serviceloop.feedback.models import Post, Response
from serviceloop.feedback.tests.factories_channels import make_service, ndjson, sign

pytestmark = pytest.mark.django_db(transaction=True)

BATCH = "/api/feedback/ingest/batch"
WEBHOOK = "/api/feedback/posts/webhook"


def _line(external_id: str) -> dict[str, Any]:
    return {"source": "kiosk", "external_id": external_id, "service": "cloud-desktop", "happiness": 7}


def _send(client: Client, ids: list[str]) -> Any:
    return client.post(BATCH, data=ndjson([_line(i) for i in ids]), content_type="application/x-ndjson")


def test_overlapping_batches_sent_at_once_both_answer_with_exact_counts(alex: Any, sam: Any) -> None:
    make_service("Cloud Desktop", manager=sam)
    lost = duplicated = 0
    for round_ in range(3):
        shared = [f"r{round_}-s{n}" for n in range(150)]
        first = [f"r{round_}-a{n}" for n in range(150)] + shared
        # The shared keys in the opposite order: two inserts that lock them in turn must not deadlock.
        second = [*reversed(shared), *(f"r{round_}-b{n}" for n in range(150))]
        one, two = api_client_for(alex), api_client_for(alex)
        answers = at_once(lambda: _send(one, first), lambda: _send(two, second))  # noqa: B023
        assert [getattr(a, "status_code", a) for a in answers] == [200, 200], answers
        reports = [a.json() for a in answers]
        for report, sent in zip(reports, (first, second), strict=True):
            assert report["created"] + report["duplicates"] == len(sent)
            assert report["rejected"] == 0
        assert sum(r["duplicates"] for r in reports) == len(shared)
        expected = set(first) | set(second)
        stored = list(
            Response.objects.filter(external_id__startswith=f"r{round_}-").values_list("external_id", flat=True)
        )
        lost += len(expected - set(stored))
        duplicated += len(stored) - len(set(stored))
        assert sum(r["created"] for r in reports) == len(stored)
    assert (lost, duplicated) == (0, 0)


def _hook(posts: list[dict[str, Any]], secret: str) -> Any:
    raw = json.dumps({"posts": posts}).encode()
    return Client().post(
        WEBHOOK,
        data=raw,
        content_type="application/json",
        HTTP_X_SERVICELOOP_SOURCE="mastodon",
        HTTP_X_SERVICELOOP_SIGNATURE=sign(raw, secret),
    )


def test_overlapping_post_deliveries_at_once_store_each_post_once(sam: Any) -> None:
    from serviceloop.feedback.models import PostSource

    secret = "mastodon-secret-0123456789"
    PostSource.objects.create(name="mastodon", secret=secret)

    def post(external_id: str) -> dict[str, Any]:
        return {"external_id": external_id, "text": "Desk was quick today", "posted_at": "2026-11-24T10:00:00Z"}

    lost = duplicated = 0
    for round_ in range(3):
        shared = [f"r{round_}-s{n}" for n in range(150)]
        first = [f"r{round_}-a{n}" for n in range(150)] + shared
        second = [*reversed(shared), *(f"r{round_}-b{n}" for n in range(150))]
        answers = at_once(
            lambda: _hook([post(i) for i in first], secret),  # noqa: B023
            lambda: _hook([post(i) for i in second], secret),  # noqa: B023
        )
        assert [getattr(a, "status_code", a) for a in answers] == [200, 200], answers
        reports = [a.json() for a in answers]
        for report, sent in zip(reports, (first, second), strict=True):
            assert report["created"] + report["duplicates"] == len(sent)
        assert sum(r["duplicates"] for r in reports) == len(shared)
        stored = list(Post.objects.filter(external_id__startswith=f"r{round_}-").values_list("external_id", flat=True))
        lost += len((set(first) | set(second)) - set(stored))
        duplicated += len(stored) - len(set(stored))
        assert sum(r["created"] for r in reports) == len(stored)
    assert (lost, duplicated) == (0, 0)


def test_six_batches_overlapping_in_a_ring_at_once_store_each_key_once(alex: Any, sam: Any) -> None:
    # Batch k shares keys with batches k-1 and k+1: a batch that retried after one neighbour
    # committed can meet the other neighbour's commit on its next attempt.
    make_service("Cloud Desktop", manager=sam)
    count = 6
    segments = [[f"seg{k}-{n}" for n in range(80)] for k in range(count)]
    batches = [segments[k] + segments[(k + 1) % count][::-1] for k in range(count)]
    clients = [api_client_for(alex) for _ in batches]
    answers = at_once(*(lambda c=c, b=b: _send(c, b) for c, b in zip(clients, batches, strict=True)))
    assert [getattr(a, "status_code", a) for a in answers] == [200] * count, answers
    reports = [a.json() for a in answers]
    for report, sent in zip(reports, batches, strict=True):
        assert report["created"] + report["duplicates"] == len(sent)
    stored = list(Response.objects.values_list("external_id", flat=True))
    expected = {key for batch in batches for key in batch}
    assert (len(expected - set(stored)), len(stored) - len(set(stored))) == (0, 0)
    assert sum(r["created"] for r in reports) == len(expected) == len(stored)
