"""The signature helper receivers use, and the webhook address check (no database)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import pytest

from serviceloop.core.errors import InvalidInput
from serviceloop.incidents.webhooks import signature, verify_signature, webhook_url_check

SECRET = "whsec-0123456789abcdef"
BODY = b'{"incident":{"id":"abc"}}'
SENT = 1_764_590_400  # 2025-12-01 12:00:00 UTC


def _header(secret: str = SECRET, timestamp: int = SENT, body: bytes = BODY) -> str:
    return "v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    assert signature(SECRET, str(SENT), BODY) == _header()
    assert signature(SECRET, str(SENT), BODY.decode()) == _header()


def test_a_fresh_signature_verifies() -> None:
    assert verify_signature(SECRET, str(SENT), BODY, _header(), now=SENT + 10)
    assert verify_signature(SECRET, str(SENT), BODY, _header(), now=datetime.fromtimestamp(SENT + 299, UTC))


@pytest.mark.parametrize(
    ("timestamp", "body", "header", "now"),
    [
        (str(SENT), BODY + b" ", _header(), SENT),  # the body was altered
        (str(SENT), BODY, _header(secret="another-secret"), SENT),  # signed with another secret
        (str(SENT + 1), BODY, _header(), SENT),  # the timestamp was altered
        (str(SENT), BODY, _header(), SENT + 301),  # replayed more than five minutes later
        (str(SENT), BODY, _header(), SENT - 301),  # from a clock far ahead
        ("yesterday", BODY, _header(), SENT),  # not a timestamp
        (str(SENT), BODY, "", SENT),  # no signature
        (str(SENT), BODY, _header().removeprefix("v1="), SENT),  # without its scheme
    ],
    ids=["body", "secret", "timestamp", "replayed", "future", "not-a-time", "empty", "no-scheme"],
)
def test_a_bad_or_stale_signature_is_refused(timestamp: str, body: bytes, header: str, now: int) -> None:
    assert not verify_signature(SECRET, timestamp, body, header, now=now)


def test_one_matching_signature_of_several_is_enough() -> None:
    assert verify_signature(SECRET, str(SENT), BODY, f"v1=deadbeef, {_header()}", now=SENT)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://0.0.0.0/hook",
        "http://[::ffff:127.0.0.1]/hook",
    ],
)
def test_private_and_loopback_receivers_are_refused(url: str, settings: Any) -> None:
    settings.SERVICELOOP_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(InvalidInput, match="public addresses only"):
        webhook_url_check(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.example.com/x", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("https:///no-host", "http:// or https://"),
        ("https://user:secret@93.184.216.34/x", "no user name or password"),
        ("http://93.184.216.34:99999/x", "not valid"),
    ],
)
def test_malformed_receivers_are_refused(url: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        webhook_url_check(url)


def test_a_public_address_is_accepted_and_private_ones_when_allowed(settings: Any) -> None:
    settings.SERVICELOOP_WEBHOOK_ALLOW_PRIVATE = False
    assert webhook_url_check(" https://93.184.216.34/hooks ") == "https://93.184.216.34/hooks"
    settings.SERVICELOOP_WEBHOOK_ALLOW_PRIVATE = True
    assert webhook_url_check("http://127.0.0.1:9/hooks") == "http://127.0.0.1:9/hooks"
