"""Pure helpers about questions and answers: default designs, validation, score bands, drivers offered."""

from __future__ import annotations

from typing import Any

from serviceloop.core.errors import InvalidInput
from serviceloop.feedback.models import SCORE_KINDS, SCORE_RANGES, Driver, QuestionKind, SurveyKind

DEFAULT_TEXT: dict[str, str] = {
    QuestionKind.CSAT: "How satisfied are you with how we handled this?",
    QuestionKind.HAPPINESS: "How happy are you with how this was handled?",
    QuestionKind.NPS: "How likely are you to recommend this service to a colleague?",
    QuestionKind.CES: "It was easy to get my issue handled.",
    QuestionKind.LOST_TIME: "How much work time did this cost you?",
    QuestionKind.DRIVERS: "What made the difference?",
    QuestionKind.COMMENT: "Anything you would like to tell us?",
}

# Low and high ends of each scale, shown under the buttons.
SCALE_LABELS: dict[str, tuple[str, str]] = {
    QuestionKind.CSAT: ("Very dissatisfied", "Very satisfied"),
    QuestionKind.HAPPINESS: ("Very unhappy", "Very happy"),
    QuestionKind.NPS: ("Not at all likely", "Extremely likely"),
    QuestionKind.CES: ("Strongly disagree", "Strongly agree"),
}

# What went well (positive score) vs what to improve: poor communication, poor quality and high cost
# are what turn perception negative (DOMAIN §1), so they lead the negative list; cost is rarely praised.
DRIVERS_POSITIVE = (Driver.SPEED, Driver.KNOWLEDGE, Driver.ATTITUDE, Driver.COMMUNICATION, Driver.QUALITY)
DRIVERS_NEGATIVE = (Driver.COMMUNICATION, Driver.QUALITY, Driver.COST, Driver.SPEED, Driver.ATTITUDE, Driver.KNOWLEDGE)

MAX_QUESTIONS = 10
MAX_TEXT = 300


def default_questions(kind: str) -> list[dict[str, Any]]:
    first = QuestionKind.NPS if kind == SurveyKind.RELATIONSHIP else QuestionKind.HAPPINESS
    kinds = [first, QuestionKind.DRIVERS, QuestionKind.COMMENT]
    if kind != SurveyKind.RELATIONSHIP:
        kinds.insert(1, QuestionKind.LOST_TIME)
    return [{"kind": str(k), "text": DEFAULT_TEXT[k], "required": k == first} for k in kinds]


def validate_questions(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A clean copy of a design, or InvalidInput naming what is wrong (field `questions`)."""
    if not questions:
        raise InvalidInput("no_questions", "A survey needs at least one question.", field="questions")
    if len(questions) > MAX_QUESTIONS:
        raise InvalidInput("too_many_questions", f"At most {MAX_QUESTIONS} questions.", field="questions")
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for position, question in enumerate(questions, start=1):
        kind = str(question.get("kind", ""))
        if kind not in QuestionKind.values:
            raise InvalidInput("unknown_kind", f"Question {position}: unknown kind '{kind}'.", field="questions")
        if kind in seen:
            raise InvalidInput("repeated_kind", f"Question {position}: '{kind}' is asked twice.", field="questions")
        seen.add(kind)
        text = str(question.get("text") or DEFAULT_TEXT[kind]).strip()
        if len(text) > MAX_TEXT:
            raise InvalidInput(
                "text_too_long", f"Question {position}: at most {MAX_TEXT} characters.", field="questions"
            )
        # The score in the email is what the invitation asks for; the follow-ups are optional unless marked.
        clean.append({"kind": kind, "text": text, "required": position == 1 or bool(question.get("required"))})
    if clean[0]["kind"] not in SCORE_KINDS:
        raise InvalidInput(
            "first_not_score",
            "The first question must be a score (CSAT, happiness, NPS or CES): it sits in the email.",
            field="questions",
        )
    scores = [q["kind"] for q in clean if q["kind"] in SCORE_KINDS]
    if len(scores) > 1:
        raise InvalidInput("two_scores", "Ask one score per survey; it sits in the email.", field="questions")
    return clean


def score_choices(kind: str) -> list[int]:
    low, high = SCORE_RANGES[kind]
    return list(range(low, high + 1))


def score_band(kind: str, value: int | None) -> str | None:
    """positive / neutral / negative: promoter-passive-detractor for 0–10, top-2-box for CSAT, agree for CES."""
    if value is None:
        return None
    if kind in (QuestionKind.HAPPINESS, QuestionKind.NPS):
        return "positive" if value >= 9 else "neutral" if value >= 7 else "negative"
    if kind == QuestionKind.CSAT:
        return "positive" if value >= 4 else "neutral" if value == 3 else "negative"
    if kind == QuestionKind.CES:
        return "positive" if value >= 5 else "neutral" if value == 4 else "negative"
    return None


def drivers_offered(kind: str, value: int | None) -> tuple[Driver, ...]:
    return DRIVERS_POSITIVE if score_band(kind, value) == "positive" else DRIVERS_NEGATIVE


def drivers_question(kind: str, value: int | None) -> str:
    if score_band(kind, value) == "positive":
        return "What went well?"
    return "What should we improve?"
