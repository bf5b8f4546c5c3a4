"""How a demo answer comes out of its ticket and the story (pure: a seeded generator, no database).

The score leans to the happiness the story gives the service on that day (`core.demo_story`), moved
by the ticket itself: each reassignment, a reopen, a breached resolution and a P1 lower it, first-contact
resolution raises it (as HappySignals reports). Lost time follows the score's band, with a long tail
in the negative answers, so a few tickets carry most of it. Drivers are the ones the comment speaks
of; a comment that states a fact of its ticket (resolved at first contact, passed between three
people, reopened, raised in the portal) is only said of a ticket where that is true.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from serviceloop.core.demo_story import Story
from serviceloop.feedback.demo_comments import GENERIC, STORY_COMMENTS, STORY_DOMAINS
from serviceloop.feedback.models import LostTime
from serviceloop.feedback.questions import DRIVERS_NEGATIVE, DRIVERS_POSITIVE

PASSIVE = 0.2  # the share of 7s and 8s when the lean allows it
LOST_TIME_ANSWERED = 0.7
COMMENT_RATE = 0.45
STORY_COMMENT_RATE = 0.6  # in a moment of the story, the share of comments about it
Buckets = list[tuple[str, int]]
LOST: dict[str, Buckets] = {
    "positive": [(LostTime.NONE, 70), (LostTime.LT30, 27), (LostTime.M30_60, 3)],
    "neutral": [(LostTime.NONE, 15), (LostTime.LT30, 55), (LostTime.M30_60, 25), (LostTime.H1_2, 5)],
    "negative": [
        (LostTime.LT30, 22),
        (LostTime.M30_60, 24),
        (LostTime.H1_2, 14),
        (LostTime.H2_4, 10),
        (LostTime.H4_8, 15),
        (LostTime.GT1DAY, 15),
    ],
}
# The outage and the desk before its portal cost more time.
LOST_HEAVY: Buckets = [
    (LostTime.M30_60, 10),
    (LostTime.H1_2, 12),
    (LostTime.H2_4, 18),
    (LostTime.H4_8, 30),
    (LostTime.GT1DAY, 30),
]
NEGATIVE_SCORES = [3, 2, 2, 3, 4, 6, 7]  # 0..6
NEGATIVE_SCORES_HEAVY = [8, 5, 5, 4, 4, 3, 3]

# Words of a comment that name a driver (feedback.questions.Driver values).
DRIVER_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("speed", ("quick", "fast", "minutes", "same day", "overnight", "waiting", "waited", "slow", "week", "days")),
    ("knowledge", ("knowledgeable", "explained", "expert", "found the right", "knew")),
    ("attitude", ("friendly", "patient", "lovely", "rude", "polite", "understanding", "stayed on the call")),
    ("communication", ("told", "updates", "called back", "answer", "reply", "nobody", "status", "explanation")),
    ("quality", ("fixed", "works", "broken", "down", "crash", "again", "lost", "missing", "wrong", "outage")),
    ("cost", ("charged", "fee", "price", "refund", "invoice", "owe")),
]
# Comments that state a fact of their ticket: said only of a ticket where it is true.
TICKET_FACTS: dict[str, Callable[[Any], bool]] = {
    "Resolved at first contact, which never happens. Well done.": lambda t: bool(t.first_contact_resolution),
    "I had to explain the same problem three times to three different people.": lambda t: t.reassignment_count >= 2,
    "Closed my ticket without fixing anything. Reopened it. Again.": lambda t: t.reopen_count >= 1,
    "Fine, it was picked up on the second call.": lambda t: not t.first_contact_resolution,
    "Passed from team to team for a week before anyone fixed my access. Awful and frustrating.": lambda t: (
        t.reassignment_count >= 1
    ),
    "Raised my request in the new portal and could follow every step until it was done. Great.": lambda t: (
        t.channel == "portal"
    ),
}


@dataclass(frozen=True)
class Moment:
    """Where in the story an answer falls."""

    name: str  # "" (ordinary), "before_portal", "after_portal", "outage"
    heavy: bool  # loses more time, scores lower among the negative

    @classmethod
    def of(cls, story: Story | None, slug: str, day: Any) -> Moment:
        if story is None:
            return cls("", False)
        if story.in_outage(slug, day):
            return cls("outage", True)
        if story.before_portal(slug, day):
            return cls("before_portal", True)
        if story.after_portal(slug, day):
            return cls("after_portal", False)
        return cls("", False)


def lean(base: float, ticket: Any) -> float:
    """The happiness an answer leans to: the story's for the day, moved by its ticket."""
    if ticket is None:
        return base
    lean = base - 12 * ticket.reassignment_count - 20 * ticket.reopen_count
    lean += 8 if ticket.first_contact_resolution else -6
    if ticket.priority == "p1":
        lean -= 8
    if ticket.resolution_breached:
        lean -= 10
    return lean


def happiness_score(rng: random.Random, lean: float, moment: Moment) -> int:
    """A 0–10 answer whose promoter and detractor chances give `lean` as happiness on average."""
    h = max(-95.0, min(95.0, lean)) / 100
    promoter = max(0.02, (1 - PASSIVE + h) / 2)
    detractor = max(0.02, (1 - PASSIVE - h) / 2)
    passive = max(0.0, 1 - promoter - detractor)
    band = rng.choices(("positive", "neutral", "negative"), weights=(promoter, passive, detractor))[0]
    if band == "positive":
        return rng.choices((9, 10), weights=(40, 60))[0]
    if band == "neutral":
        return rng.choices((7, 8), weights=(45, 55))[0]
    return rng.choices(range(7), weights=NEGATIVE_SCORES_HEAVY if moment.heavy else NEGATIVE_SCORES)[0]


def lost_time(rng: random.Random, band: str, moment: Moment) -> str | None:
    if rng.random() >= LOST_TIME_ANSWERED:
        return None
    buckets = LOST_HEAVY if band == "negative" and moment.heavy else LOST[band]
    return str(rng.choices([b for b, _ in buckets], weights=[w for _, w in buckets])[0])


def comment(rng: random.Random, domain: str, band: str, moment: Moment, ticket: Any) -> str:
    """A comment that fits the service, the band, the moment of the story and the ticket, or ""."""
    if rng.random() >= COMMENT_RATE:
        return ""
    pool: list[str] = []
    if moment.name and STORY_DOMAINS[moment.name] == domain and rng.random() < STORY_COMMENT_RATE:
        pool = STORY_COMMENTS[moment.name][band]
    if not pool:
        pool = GENERIC[domain][band]
    fitting = [text for text in pool if text not in TICKET_FACTS or (ticket is not None and TICKET_FACTS[text](ticket))]
    return rng.choice(fitting) if fitting else ""


def drivers(rng: random.Random, text: str, band: str, moment: Moment) -> list[str]:
    """The drivers the comment names (those offered for the band); without a comment, a likely pick."""
    if text:
        return named_drivers(text, band)
    offered = [d.value for d in (DRIVERS_POSITIVE if band == "positive" else DRIVERS_NEGATIVE)]
    if rng.random() >= 0.5:
        return []
    likely = {"outage": ["quality", "communication"], "before_portal": ["speed", "communication"]}.get(moment.name)
    if likely and band != "positive":
        return likely[: rng.choice((1, 2))]
    return rng.sample(offered, k=rng.choice((1, 1, 2)))


def named_drivers(text: str, band: str) -> list[str]:
    """The drivers offered for the band (at most two) whose words the comment uses."""
    offered = [d.value for d in (DRIVERS_POSITIVE if band == "positive" else DRIVERS_NEGATIVE)]
    lowered = text.lower()
    return [d for d, words in DRIVER_WORDS if d in offered and any(_has(lowered, w) for w in words)][:2]


def _has(text: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}", text) is not None
