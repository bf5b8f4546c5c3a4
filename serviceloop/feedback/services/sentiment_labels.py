"""The Django side of sentiment: scoring on arrival, staff corrections, calibration, rescoring.

The analyser itself is pure (`feedback.sentiment`); this module keeps its cut-offs in the
`SentimentSettings` row, masks personal data on arrival when the setting asks for it, stores every
score with `ANALYSER_VERSION`, and turns staff corrections into calibrated thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from serviceloop.accounts.models import User
from serviceloop.core.clock import now
from serviceloop.core.errors import InvalidInput
from serviceloop.core.events import event_record
from serviceloop.feedback.models import Post, Response, SentimentCorrection, SentimentLabel, SentimentSettings
from serviceloop.feedback.pii import mask_personal_data
from serviceloop.feedback.sentiment import (
    ANALYSER_VERSION,
    Label,
    SentimentResult,
    Thresholds,
    calibrate_thresholds,
    score_texts,
)

# Below this many corrections the defaults stay (calibrate_thresholds' own guard).
CALIBRATION_MINIMUM = 30


def current_thresholds() -> Thresholds:
    """The cut-offs in force: the calibrated row, or the defaults of DOMAIN §2 when there is none."""
    row = SentimentSettings.objects.filter(singleton=True).first()
    if row is None:
        return Thresholds()
    return Thresholds(positive=row.positive_threshold, negative=row.negative_threshold)


def prepare_text(text: str) -> tuple[str, bool]:
    """The text as it will be stored, and whether anything was masked (SERVICELOOP_MASK_PERSONAL_DATA)."""
    if not settings.SERVICELOOP_MASK_PERSONAL_DATA or not text:
        return text, False
    masked = mask_personal_data(text)
    return masked, masked != text


def score_many(texts: Sequence[str], thresholds: Thresholds | None = None) -> list[SentimentResult | None]:
    """One result per text, `None` for an empty text (no comment is no sentiment, not 'neutral')."""
    thresholds = thresholds or current_thresholds()
    present = [text for text in texts if text.strip()]
    results = iter(score_texts(present, thresholds))
    return [next(results) if text.strip() else None for text in texts]


@dataclass(frozen=True)
class CalibrationResult:
    thresholds: Thresholds
    examples: int
    changed: bool
    enough: bool


def sentiment_correct(
    *, by: User, label: str, response: Response | None = None, post: Post | None = None
) -> SentimentCorrection:
    """A staff member says what the text really expresses; the row shows it, the example is kept."""
    if (response is None) == (post is None):
        raise InvalidInput("one_subject", "Correct the label of one response or one post.")
    if label not in SentimentLabel.values:
        raise InvalidInput("invalid_label", "The label is positive, neutral or negative.", field="label")
    with transaction.atomic():
        subject: Response | Post
        if response is not None:
            subject = Response.objects.select_for_update().get(pk=response.pk)
            text = subject.comment
        else:
            assert post is not None  # nosec B101  # narrows for mypy; exactly one of response and post (checked above)
            subject = Post.objects.select_for_update().get(pk=post.pk)
            text = subject.text
        if subject.sentiment_score is None or not subject.sentiment_label:
            raise InvalidInput("not_scored", "This row has no text sentiment to correct.")
        correction = SentimentCorrection.objects.create(
            response=response and subject,  # type: ignore[misc]
            post=post and subject,  # type: ignore[misc]
            text=text,
            original_score=subject.sentiment_score,
            original_label=subject.sentiment_label,
            original_version=subject.sentiment_version,
            corrected_label=label,
            by=by,
        )
        subject.sentiment_label = label
        subject.save(update_fields=["sentiment_label", "updated_at"])
        which: dict[str, Any] = {"response_id": subject.pk} if response is not None else {"post_id": subject.pk}
        event_record("sentiment.corrected", subject=subject, by=by, correction_id=correction.pk, **which)
    return correction


def sentiment_calibrate(*, by: User | None, minimum: int = CALIBRATION_MINIMUM) -> CalibrationResult:
    """Fit the cut-offs to the staff corrections and store them; scoring uses them from now on.

    Only the latest correction of each row counts (a label corrected twice is one example), and
    only those scored by the current analyser version: an old version's scores are on another scale.
    """
    latest: dict[tuple[str, int], tuple[float, Label]] = {}
    rows = (
        SentimentCorrection.objects.filter(original_version=ANALYSER_VERSION)
        .order_by("created_at", "pk")
        .values_list("response_id", "post_id", "original_score", "corrected_label")
    )
    for response_id, post_id, score, label in rows:
        key = ("response", response_id) if response_id else ("post", post_id)
        latest[key] = (score, Label(label))
    examples = list(latest.values())
    thresholds = calibrate_thresholds(examples, minimum=minimum)
    with transaction.atomic():
        row, _ = SentimentSettings.objects.select_for_update().get_or_create(singleton=True)
        changed = (row.positive_threshold, row.negative_threshold) != (thresholds.positive, thresholds.negative)
        row.positive_threshold = thresholds.positive
        row.negative_threshold = thresholds.negative
        row.calibrated_from = len(examples)
        row.calibrated_at = now()
        row.calibrated_by = by
        row.save()
    return CalibrationResult(
        thresholds=thresholds, examples=len(examples), changed=changed, enough=len(examples) >= minimum
    )


def sentiment_rescore(*, batch_size: int = 2000) -> int:
    """Recompute the sentiment of every comment and post scored by another analyser version.

    Staff-corrected labels are kept (a correction is a human judgement, newer than any analyser);
    their score is refreshed. Returns how many rows changed.
    """
    thresholds = current_thresholds()
    changed = 0
    subjects: list[tuple[Any, str]] = [(Response, "comment"), (Post, "text")]
    for model, text_field in subjects:
        stale = model.objects.exclude(**{text_field: ""}).filter(~Q(sentiment_version=ANALYSER_VERSION))
        corrected = set(
            SentimentCorrection.objects.filter(**{f"{model._meta.model_name}__isnull": False}).values_list(
                f"{model._meta.model_name}_id", flat=True
            )
        )
        while True:
            batch: list[Any] = list(stale.order_by("pk").only("pk", text_field, "sentiment_label")[:batch_size])
            if not batch:
                break
            results = score_many([getattr(row, text_field) for row in batch], thresholds)
            for row, result in zip(batch, results, strict=True):
                row.sentiment_version = ANALYSER_VERSION
                if result is None:
                    row.sentiment_score, row.sentiment_label = None, None
                    continue
                row.sentiment_score = result.score
                if row.pk not in corrected:
                    row.sentiment_label = result.label.value
            with transaction.atomic():
                model.objects.bulk_update(batch, ["sentiment_score", "sentiment_label", "sentiment_version"])
                ids: dict[str, Any] = {f"{model._meta.model_name}_ids": [row.pk for row in batch]}
                event_record("sentiment.rescored", **ids)
            changed += len(batch)
    return changed
