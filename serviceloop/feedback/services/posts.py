"""Posts, mentions, chat messages and reviews: storing them idempotently, matching, triage, rules.

Posts arrive by the signed webhook, the API or a CSV import; all three call `posts_record`, which
validates every item, skips the (source, external_id) pairs already stored, masks personal data
when the setting asks for it, scores sentiment in bulk, matches the services by their rules, and
writes the new posts set-wise in one transaction. Unmatched posts wait in the inbox for triage.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from django.conf import settings
from django.db import IntegrityError, transaction
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Service
from serviceloop.core.cli import progress as core_progress
from serviceloop.core.clock import now
from serviceloop.core.errors import ConflictError, InvalidInput, NotAllowed
from serviceloop.core.events import event_record
from serviceloop.core.schemas import BoundedDateTime, Text
from serviceloop.feedback.models import MatchRule, Post, PostSource
from serviceloop.feedback.post_match import Matcher, Rule, normalise_pattern, pattern_problem
from serviceloop.feedback.services.ingest import LineError
from serviceloop.feedback.services.sentiment_labels import prepare_text, score_many

MAX_POSTS_PER_REQUEST = 10_000
_CHUNK = 1_000


class PostItem(BaseModel):
    """One post from a social network, a chat or a review site."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source: Text = Field(min_length=1, max_length=100, description='e.g. "x", "mastodon", "trustpilot", "chat"')
    external_id: Text = Field(min_length=1, max_length=200, description="The post's id at the source")
    kind: Post.Kind = Post.Kind.POST
    author_handle: Text = Field(default="", max_length=200)
    url: Text = Field(default="", max_length=1000)
    text: Text = Field(min_length=1, max_length=10_000)
    posted_at: BoundedDateTime

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return value

    @field_validator("posted_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2026-11-25T09:30:00Z")
        return value


@dataclass
class PostReport:
    received: int = 0
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    matched: int = 0
    errors: list[LineError] = field(default_factory=list)
    post_ids: list[int] = field(default_factory=list)


def validation_reason(error: ValidationError) -> str:
    parts = []
    for problem in error.errors()[:3]:
        location = ".".join(str(part) for part in problem.get("loc", ()))
        message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)


def _matcher() -> Matcher:
    return Matcher(
        Rule(service_id, kind, pattern, case_sensitive)
        for service_id, kind, pattern, case_sensitive in MatchRule.objects.values_list(
            "service_id", "kind", "pattern", "case_sensitive"
        )
    )


def _existing(items: Sequence[PostItem]) -> set[tuple[str, str]]:
    by_source: dict[str, set[str]] = {}
    for item in items:
        by_source.setdefault(item.source, set()).add(item.external_id)
    found: set[tuple[str, str]] = set()
    for source, ids in by_source.items():
        ordered = sorted(ids)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            found.update(Post.objects.filter(source=source, external_id__in=chunk).values_list("source", "external_id"))
    return found


def posts_record(*, items: Sequence[tuple[int, PostItem]], report: PostReport | None = None) -> PostReport:
    """Store the new posts among validated `items` (line number, item); see the module docstring."""
    report = report or PostReport(received=len(items))
    matcher = _matcher()
    with transaction.atomic():
        existing = _existing([item for _, item in items])
        seen: set[tuple[str, str]] = set()
        posts: list[Post] = []
        matches: list[set[int]] = []
        for _, item in items:
            key = (item.source, item.external_id)
            if key in existing or key in seen:
                report.duplicates += 1
                continue
            seen.add(key)
            text, masked = prepare_text(item.text)
            services = matcher.services_for(text, item.author_handle)
            posts.append(
                Post(
                    kind=item.kind,
                    source=item.source,
                    external_id=item.external_id,
                    author_handle=item.author_handle,
                    url=item.url,
                    text=text,
                    posted_at=item.posted_at,
                    matched=bool(services),
                    masked=masked,
                )
            )
            matches.append(services)
        for post, result in zip(posts, score_many([post.text for post in posts]), strict=True):
            if result is not None:
                post.sentiment_score, post.sentiment_label, post.sentiment_version = (
                    result.score,
                    result.label.value,
                    result.version,
                )
        # In key order, so that overlapping deliveries take their unique-index locks in the same
        # order on PostgreSQL (one waits for the other, neither deadlocks).
        order = sorted(range(len(posts)), key=lambda i: (posts[i].source, posts[i].external_id))
        posts, matches = [posts[i] for i in order], [matches[i] for i in order]
        for start in range(0, len(posts), _CHUNK):
            # ignore_conflicts: a concurrent request that stored the same post first wins quietly.
            Post.objects.bulk_create(posts[start : start + _CHUNK], ignore_conflicts=True)
        stored: dict[str, int] = {}
        public_ids = [post.public_id for post in posts]
        for start in range(0, len(public_ids), _CHUNK):
            stored.update(
                Post.objects.filter(public_id__in=public_ids[start : start + _CHUNK]).values_list("public_id", "pk")
            )
        links = [
            Post.services.through(post_id=stored[post.public_id], service_id=service_id)
            for post, services in zip(posts, matches, strict=True)
            if post.public_id in stored
            for service_id in services
        ]
        Post.services.through.objects.bulk_create(links, batch_size=_CHUNK)
        ids = [stored[post.public_id] for post in posts if post.public_id in stored]
        report.created += len(ids)
        report.duplicates += len(posts) - len(ids)
        report.matched += sum(1 for post in posts if post.public_id in stored and post.matched)
        report.post_ids.extend(ids)
        if ids:
            event_record("posts.recorded", post_ids=ids)
    report.errors.sort(key=lambda error: error.line)
    report.rejected = len(report.errors)
    return report


def post_record(*, item: PostItem) -> tuple[Post, bool]:
    """Store one post; sending it again returns the stored one (created False), unchanged."""
    report = posts_record(items=[(1, item)])
    return Post.objects.get(source=item.source, external_id=item.external_id), bool(report.created)


def post_assign(*, post: Post, service: Service, by: User) -> Post:
    """Triage: this post is about `service`; it leaves the inbox."""
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        post.services.add(service)
        post.matched = True
        post.dismissed_at = None
        post.triaged_by = by
        post.triaged_at = now()
        post.save(update_fields=["matched", "dismissed_at", "triaged_by", "triaged_at", "updated_at"])
        event_record("posts.recorded", subject=post, by=by, post_ids=[post.pk])
    return post


def post_dismiss(*, post: Post, by: User) -> Post:
    """Triage: the post is about none of our services (spam, another company); it leaves the inbox."""
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        if post.matched:
            raise ConflictError("post_matched", "This post is matched to a service; it is not in the inbox.")
        post.dismissed_at = now()
        post.triaged_by = by
        post.triaged_at = post.dismissed_at
        post.save(update_fields=["dismissed_at", "triaged_by", "triaged_at", "updated_at"])
    return post


def _require_manager(by: User) -> None:
    if not by.can_manage_services:
        raise NotAllowed("forbidden", "Only service managers and administrators may change matching rules.")


def match_rule_create(
    *, service: Service, kind: str, pattern: str, case_sensitive: bool = False, by: User
) -> MatchRule:
    """A new rule for `service`; posts waiting in the inbox that it matches leave the inbox."""
    _require_manager(by)
    if kind not in MatchRule.Kind.values:
        raise InvalidInput("invalid_kind", "A rule is a handle, a hashtag or a keyword.", field="kind")
    pattern = normalise_pattern(kind, pattern)
    problem = pattern_problem(kind, pattern)
    if problem:
        raise InvalidInput("invalid_pattern", problem, field="pattern")
    try:
        with transaction.atomic():
            rule = MatchRule.objects.create(
                service=service, kind=kind, pattern=pattern, case_sensitive=case_sensitive, created_by=by
            )
            posts_rematch_inbox(rules=[rule])
    except IntegrityError:
        raise ConflictError("duplicate_rule", "This service already has that rule.", field="pattern")
    return rule


def match_rule_delete(*, rule: MatchRule, by: User) -> None:
    """Stop matching new posts by this rule; posts matched before keep their service."""
    _require_manager(by)
    rule.delete()


def posts_rematch_inbox(*, rules: Sequence[MatchRule]) -> int:
    """Match the inbox against `rules`; returns how many posts left the inbox."""
    matcher = Matcher(Rule(r.service_id, r.kind, r.pattern, r.case_sensitive) for r in rules)
    moved_ids: list[int] = []
    inbox = Post.objects.filter(matched=False, dismissed_at__isnull=True).only("pk", "text", "author_handle")
    for post in inbox.iterator(chunk_size=2_000):
        services = matcher.services_for(post.text, post.author_handle)
        if services:
            post.services.add(*services)
            Post.objects.filter(pk=post.pk).update(matched=True, updated_at=now())
            moved_ids.append(post.pk)
    if moved_ids:
        event_record("posts.recorded", post_ids=moved_ids)
    return len(moved_ids)


# Source names appear in URLs and in the webhook's query: no slashes or spaces.
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,50}$")


def post_source_set(*, name: str, secret: str, by: User) -> PostSource:
    """Create a webhook source or replace its secret."""
    _require_manager(by)
    name, secret = name.strip(), secret.strip()
    if not name:
        raise InvalidInput("invalid_name", "Name the source, as its posts name it (e.g. mastodon).", field="name")
    if not _SOURCE_NAME.match(name):
        raise InvalidInput(
            "invalid_name",
            "A source name has 1–50 letters, digits, dots, dashes or underscores (e.g. mastodon).",
            field="name",
        )
    if len(secret) < 16:
        raise InvalidInput("weak_secret", "A webhook secret has at least 16 characters.", field="secret")
    source, _ = PostSource.objects.update_or_create(name=name, defaults={"secret": secret, "created_by": by})
    return source


def post_source_delete(*, source: PostSource, by: User) -> None:
    _require_manager(by)
    source.delete()


def webhook_signature_valid(*, body: bytes, signature: str, source: str | None) -> bool:
    """Whether `signature` ("sha256=<hex>") is the HMAC-SHA256 of `body` with the source's secret.

    The source's own secret (Post sources page) when it has one, else SERVICELOOP_POST_WEBHOOK_SECRET.
    """
    secret = None
    if source:
        secret = PostSource.objects.filter(name=source).values_list("secret", flat=True).first()
    secret = secret or settings.SERVICELOOP_POST_WEBHOOK_SECRET
    if not secret or not signature.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.removeprefix("sha256=").strip().lower())


CSV_COLUMNS = ("source", "external_id", "kind", "author_handle", "url", "text", "posted_at")


def posts_import_csv(*, handle: TextIO, progress: bool = False) -> PostReport:
    """Import posts from a CSV file with the columns of CSV_COLUMNS (kind, author_handle, url optional).

    Valid lines are stored (in transactions of 1,000), invalid ones reported with their line number;
    importing the same file again creates nothing.
    """
    total = _count_rows(handle)
    reader = csv.DictReader(handle)
    missing = [name for name in ("source", "external_id", "text", "posted_at") if name not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput("missing_columns", f"The CSV file has no column {', '.join(missing)}.")
    report = PostReport()
    batch: list[tuple[int, PostItem]] = []
    for row in core_progress(reader, total=total, desc="posts", enabled=progress):
        report.received += 1
        line = reader.line_num
        data = {name: row.get(name) or "" for name in CSV_COLUMNS if name in row}
        data["kind"] = data.get("kind") or Post.Kind.POST
        try:
            batch.append((line, PostItem.model_validate(data)))
        except ValidationError as error:
            report.errors.append(LineError(line, validation_reason(error)))
        if len(batch) >= _CHUNK:
            posts_record(items=batch, report=report)
            batch = []
    if batch:
        posts_record(items=batch, report=report)
    report.errors.sort(key=lambda error: error.line)
    report.rejected = len(report.errors)
    return report


def _count_rows(handle: TextIO) -> int | None:
    """Data rows of a seekable file, for the progress bar's total (None for a pipe)."""
    if not handle.seekable():
        return None
    count = sum(1 for _ in csv.reader(handle))
    handle.seek(0)
    return max(count - 1, 0)
