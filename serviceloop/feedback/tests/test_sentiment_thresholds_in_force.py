"""Survey comments are labelled with the thresholds calibrated from staff corrections."""

from __future__ import annotations

from serviceloop.feedback.models import SentimentSettings
from serviceloop.feedback.sentiment import score_text
from serviceloop.feedback.services.responses import score_sentiment

MILD = "The engineer was helpful."


def test_defaults_apply_without_calibration(db) -> None:
    assert score_text(MILD).score >= 0.2
    assert score_sentiment(MILD).label == "positive"


def test_calibrated_thresholds_change_the_label(db) -> None:
    SentimentSettings.objects.create(positive_threshold=0.95, negative_threshold=-0.95)
    result = score_sentiment(MILD)
    assert result.label == "neutral"
    assert result.score == score_text(MILD).score
