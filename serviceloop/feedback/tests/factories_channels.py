"""Factories for the channels tests: services, offerings, widget sites, rules, posts."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.feedback.models import MatchRule, Post, WidgetSite


def make_service(name: str = "Cloud Desktop", *, manager: User, slug: str | None = None, **fields: Any) -> Service:
    return Service.objects.create(
        name=name, slug=slug or name.lower().replace(" ", "-"), service_manager=manager, lifecycle="live", **fields
    )


def make_offering(service: Service, name: str = "Standard", **fields: Any) -> Offering:
    return Offering.objects.create(service=service, name=name, slug=name.lower().replace(" ", "-"), **fields)


def make_widget_site(service: Service, *, origins: list[str], **fields: Any) -> WidgetSite:
    return WidgetSite.objects.create(
        name=fields.pop("name", "Intranet"), service=service, allowed_origins=origins, **fields
    )


def make_rule(service: Service, kind: str, pattern: str, **fields: Any) -> MatchRule:
    return MatchRule.objects.create(service=service, kind=kind, pattern=pattern, **fields)


def make_post(text: str, *, external_id: str = "p1", source: str = "mastodon", **fields: Any) -> Post:
    fields.setdefault("posted_at", datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    return Post.objects.create(text=text, external_id=external_id, source=source, **fields)


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def ndjson(items: list[Any]) -> bytes:
    return b"\n".join(item if isinstance(item, bytes) else json.dumps(item).encode() for item in items) + b"\n"


def run_command(*argv: str) -> int:
    """Run a feedback subcommand as `serviceloop` would (the app's own register(), no serviceloop.cli)."""
    import argparse

    from serviceloop.feedback.commands import register

    parser = argparse.ArgumentParser(prog="serviceloop")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return int(args.handler(args))
