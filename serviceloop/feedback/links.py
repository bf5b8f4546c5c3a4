"""Signed survey links: the token carries only the invitation's public id (and a score for one-click links).

Django's signing with our own salt: a token cannot be forged or altered without the secret key, it
names no person, and it expires after SERVICELOOP_SURVEY_LINK_DAYS (the invitation's own
expires_at is checked too, by the service that loads it).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "serviceloop.feedback.survey-link"


class LinkInvalid(Exception):
    """Tampered with, or not ours."""


class LinkExpired(Exception):
    """Ours, but past its window."""


@dataclass(frozen=True)
class LinkClaim:
    invitation: str  # public id
    score: int | None = None


def link_days() -> int:
    return int(getattr(settings, "SERVICELOOP_SURVEY_LINK_DAYS", 14))


def token_for(invitation_public_id: str, score: int | None = None) -> str:
    payload: dict[str, object] = {"i": invitation_public_id}
    if score is not None:
        payload["s"] = score
    return signing.dumps(payload, salt=SALT, compress=True)


def read_token(token: str) -> LinkClaim:
    try:
        payload = signing.loads(token, salt=SALT, max_age=link_days() * 86400)
    except signing.SignatureExpired as error:
        raise LinkExpired(str(error)) from error
    except signing.BadSignature as error:
        raise LinkInvalid(str(error)) from error
    if not isinstance(payload, dict) or not isinstance(payload.get("i"), str):
        raise LinkInvalid("unexpected payload")
    score = payload.get("s")
    if score is not None and not isinstance(score, int):
        raise LinkInvalid("unexpected score")
    return LinkClaim(invitation=payload["i"], score=score)


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def answer_url(invitation_public_id: str, score: int) -> str:
    return absolute(reverse("feedback:survey_answer", kwargs={"token": token_for(invitation_public_id, score)}))


def page_url(invitation_public_id: str) -> str:
    return absolute(reverse("feedback:survey_page", kwargs={"token": token_for(invitation_public_id)}))


def opt_out_url(invitation_public_id: str) -> str:
    return absolute(reverse("feedback:survey_opt_out", kwargs={"token": token_for(invitation_public_id)}))
