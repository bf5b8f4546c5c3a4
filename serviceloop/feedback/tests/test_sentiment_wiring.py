"""Sentiment in the product: staff corrections, calibration, rescoring, and `serviceloop sentiment`."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.feedback.models import Post, Response, SentimentCorrection, SentimentSettings
from serviceloop.feedback.sentiment import ANALYSER_VERSION
from serviceloop.feedback.services.sentiment_labels import current_thresholds
from serviceloop.feedback.tests.factories_channels import make_post, make_service, run_command


@pytest.fixture
def service(sam: Any) -> Any:
    return make_service("Cloud Desktop", manager=sam)


def _response(
    service: Any, comment: str, score: float, label: str, n: int = 0, version: str = ANALYSER_VERSION
) -> Response:
    return Response.objects.create(
        service=service,
        responded_at=datetime(2026, 11, 20, tzinfo=UTC),
        comment=comment,
        sentiment_score=score,
        sentiment_label=label,
        sentiment_version=version,
        source="t",
        external_id=str(n),
    )


def test_staff_correct_a_post_label_in_place(alex: Any) -> None:
    post = make_post(
        "Well, that went great. Not.",
        sentiment_score=0.6,
        sentiment_label="positive",
        sentiment_version=ANALYSER_VERSION,
    )
    client = Client()
    client.force_login(alex)
    response = client.post(
        reverse("feedback:sentiment_correct", args=["post", post.public_id]),
        {"label": "negative"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "negative" in response.content.decode() and "corrected" in response.content.decode()
    post.refresh_from_db()
    assert post.sentiment_label == "negative"
    correction = SentimentCorrection.objects.get()
    assert (correction.original_label, correction.corrected_label, correction.by, correction.text) == (
        "positive",
        "negative",
        alex,
        post.text,
    )


def test_staff_correct_a_response_comment_label(alex: Any, service: Any) -> None:
    row = _response(service, "meh", 0.0, "neutral")
    client = Client()
    client.force_login(alex)
    client.post(reverse("feedback:sentiment_correct", args=["response", row.public_id]), {"label": "negative"})
    row.refresh_from_db()
    assert row.sentiment_label == "negative"


def test_a_label_outside_the_three_is_refused(alex: Any) -> None:
    post = make_post("ok", sentiment_score=0.1, sentiment_label="neutral", sentiment_version=ANALYSER_VERSION)
    client = Client()
    client.force_login(alex)
    response = client.post(reverse("feedback:sentiment_correct", args=["post", post.public_id]), {"label": "furious"})
    assert response.status_code == 422
    assert not SentimentCorrection.objects.exists()


def test_customer_may_not_correct_labels(carol: Any) -> None:
    post = make_post("ok", sentiment_score=0.1, sentiment_label="neutral", sentiment_version=ANALYSER_VERSION)
    client = Client()
    client.force_login(carol)
    response = client.post(reverse("feedback:sentiment_correct", args=["post", post.public_id]), {"label": "negative"})
    assert response.status_code == 403


def test_calibrate_fits_the_thresholds_to_corrections_and_scoring_uses_them(
    ada: Any, service: Any, capsys: Any
) -> None:
    # Staff say mild scores (0.1..0.3) are neutral and 0.5+ positive: the positive cut-off should rise.
    for n in range(40):
        score = 0.1 + (n % 5) * 0.05 if n < 25 else 0.5 + (n % 5) * 0.1
        row = _response(service, f"text {n}", round(score, 2), "positive", n)
        SentimentCorrection.objects.create(
            response=row,
            text=row.comment,
            original_score=row.sentiment_score,
            original_label="positive",
            original_version=ANALYSER_VERSION,
            corrected_label="neutral" if n < 25 else "positive",
            by=ada,
        )
    assert run_command("sentiment", "calibrate") == 0
    out = capsys.readouterr().out
    assert "Calibrated on 40 corrections" in out
    stored = SentimentSettings.objects.get()
    assert stored.calibrated_from == 40
    assert 0.3 < stored.positive_threshold <= 0.5
    assert current_thresholds().positive == stored.positive_threshold


def test_calibrate_with_few_corrections_keeps_the_defaults(capsys: Any, db: Any) -> None:
    assert run_command("sentiment", "calibrate") == 0
    assert "the defaults stay" in capsys.readouterr().out
    assert current_thresholds().positive == 0.2


def test_rescore_recomputes_rows_of_another_version_and_keeps_corrected_labels(
    alex: Any, service: Any, capsys: Any
) -> None:
    stale = _response(service, "The outage lasted 4 hours and nobody told us anything", 0.0, "neutral", 1, "old")
    corrected = make_post(
        "Thanks, fixed quickly", sentiment_score=0.0, sentiment_label="negative", sentiment_version="old"
    )
    SentimentCorrection.objects.create(
        post=corrected,
        text=corrected.text,
        original_score=0.5,
        original_label="positive",
        original_version="old",
        corrected_label="negative",
        by=alex,
    )
    current = _response(service, "fine", 0.9, "positive", 2)
    assert run_command("sentiment", "rescore") == 0
    assert "2 comments and posts rescored" in capsys.readouterr().out
    stale.refresh_from_db()
    corrected.refresh_from_db()
    current.refresh_from_db()
    assert (stale.sentiment_label, stale.sentiment_version) == ("negative", ANALYSER_VERSION)
    assert corrected.sentiment_label == "negative" and corrected.sentiment_score > 0
    assert current.sentiment_score == 0.9


def test_sentiment_command_scores_a_csv_column_into_a_file(tmp_path: Path, db: Any) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        'id,text\n1,"Fixed quickly, thank you!"\n2,The outage lasted 4 hours and nobody told us anything\n'
    )
    output = tmp_path / "out.csv"
    assert run_command("sentiment", str(source), "--column", "text", "--output", str(output)) == 0
    rows = list(csv.DictReader(output.open()))
    assert [(row["id"], row["label"]) for row in rows] == [("1", "positive"), ("2", "negative")]


def test_sentiment_command_reads_standard_input(monkeypatch: Any, capsys: Any, db: Any) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"great service\nterrible, still down\n"))
    monkeypatch.setattr("sys.stdin", stdin)
    assert run_command("sentiment", "-") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "text,label,score"
    assert lines[1].startswith("great service,positive,") and lines[2].startswith('"terrible, still down",negative,')


def test_sentiment_command_names_a_missing_column(tmp_path: Path, capsys: Any, db: Any) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,body\n1,hello\n")
    assert run_command("sentiment", str(source), "--column", "text") == 2
    assert "text" in capsys.readouterr().err


def test_staff_see_the_sentiment_page_and_managers_calibrate(sam: Any, alex: Any) -> None:
    client = Client()
    client.force_login(alex)
    assert "Where the analyser errs" in client.get(reverse("feedback:sentiment")).content.decode()
    assert client.post(reverse("feedback:sentiment")).status_code == 403
    client.force_login(sam)
    assert client.post(reverse("feedback:sentiment")).status_code == 302
    assert Post.objects.count() == 0


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("https://evil.example/phish", "/feedback/posts/"),
        ("//evil.example/phish", "/feedback/posts/"),
        ("/\\evil.example", "/feedback/posts/"),
        ("javascript:alert(1)", "/feedback/posts/"),
        ("/feedback/responses/?page=2", "/feedback/responses/?page=2"),
    ],
)
def test_going_back_after_a_correction_stays_on_this_site(alex: Any, next_url: str, lands_on: str) -> None:
    post = make_post("ok", sentiment_score=0.1, sentiment_label="neutral", sentiment_version=ANALYSER_VERSION)
    client = Client()
    client.force_login(alex)
    response = client.post(
        reverse("feedback:sentiment_correct", args=["post", post.public_id]), {"label": "negative", "next": next_url}
    )
    assert response.status_code == 302
    assert response["Location"] == (reverse("feedback:posts_inbox") if lands_on == "/feedback/posts/" else lands_on)
