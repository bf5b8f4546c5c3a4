"""core.ratelimit: rules from settings, windows that end, lockouts, the client's address, one shared count."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core import checks
from django.db import connection
from django.test import RequestFactory, override_settings

from serviceloop.core import ratelimit
from serviceloop.core.models import RateLimitCounter
from serviceloop.core.ratelimit import Rule, client_ip, parse_rule
from serviceloop.core.tasks import housekeeping


def test_a_rule_is_a_count_per_period() -> None:
    assert parse_rule("x", "5/15m") == Rule("x", 5, timedelta(minutes=15))
    assert parse_rule("x", "600/m") == Rule("x", 600, timedelta(minutes=1))
    assert parse_rule("x", " 3 / 1d ") == Rule("x", 3, timedelta(days=1))
    assert parse_rule("x", "off") is None


@pytest.mark.parametrize("spec", ["5", "five/1m", "5/1w", "0/1m", "5/0s", "-1/1m"])
def test_a_mistyped_rule_names_the_setting(spec: str) -> None:
    with pytest.raises(ValueError, match="SERVICELOOP_RATE_QR_IP"):
        parse_rule("qr_ip", spec)


def test_a_mistyped_setting_fails_the_system_check() -> None:
    with override_settings(SERVICELOOP_RATE_QR_IP="ten a minute", SERVICELOOP_TRUSTED_PROXIES=["10.0.0.0/8", "proxy"]):
        messages = checks.run_checks()
    found = {message.id: message.msg for message in messages}
    assert "SERVICELOOP_RATE_QR_IP" in found["serviceloop.E101"]
    assert "'proxy'" in found["serviceloop.E102"]


def _request(remote: str, forwarded: str | None = None) -> Any:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


def test_without_trusted_proxies_only_the_connecting_address_counts(settings: Any) -> None:
    settings.SERVICELOOP_TRUSTED_PROXIES = []
    assert client_ip(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_address_it_saw_counts(settings: Any) -> None:
    settings.SERVICELOOP_TRUSTED_PROXIES = ["10.0.0.0/8"]
    # The client may put anything left of what our proxy appended; only the proxy's entry is believed.
    assert client_ip(_request("10.0.0.2", "1.1.1.1, 198.51.100.7")) == "198.51.100.7"
    assert client_ip(_request("10.0.0.2", "198.51.100.7, 10.0.0.5")) == "198.51.100.7"
    # A request that did not come through the proxy: its header is the client's word, not counted.
    assert client_ip(_request("203.0.113.9", "198.51.100.7")) == "203.0.113.9"


def test_ipv6_clients_are_counted_per_64() -> None:
    assert client_ip(_request("2001:db8:1:2:aaaa::1")) == client_ip(_request("2001:db8:1:2:bbbb::2"))
    assert client_ip(_request("2001:db8:1:2::1")) == "2001:db8:1:2::/64"


@override_settings(SERVICELOOP_RATE_QR_IP="3/10m")
def test_hits_past_the_limit_are_refused_until_the_window_ends(db: Any, travel: Any) -> None:
    decisions = [ratelimit.hit("qr_ip", "198.51.100.7") for _ in range(4)]
    assert [decision.allowed for decision in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after == 600
    travel.by(minutes=9, seconds=59)
    assert ratelimit.hit("qr_ip", "198.51.100.7").retry_after == 1
    travel.by(seconds=1)
    fresh = ratelimit.hit("qr_ip", "198.51.100.7")
    assert (fresh.allowed, fresh.hits) == (True, 1)


@override_settings(SERVICELOOP_RATE_QR_IP="3/10m")
def test_each_client_has_a_count_of_its_own_stored_as_a_keyed_hash(db: Any) -> None:
    for _ in range(3):
        ratelimit.hit("qr_ip", "198.51.100.7")
    assert ratelimit.hit("qr_ip", "198.51.100.8").allowed
    rows = list(RateLimitCounter.objects.values_list("rule", "hits"))
    assert sorted(rows) == [("qr_ip", 1), ("qr_ip", 3)]
    assert not RateLimitCounter.objects.filter(bucket__contains="198.51").exists()


@override_settings(SERVICELOOP_RATE_SIGN_IN_ACCOUNT="3/15m")
def test_a_lockout_lasts_a_whole_period_from_the_failure_that_reached_the_limit(db: Any, travel: Any) -> None:
    ratelimit.failure("sign_in_account", "dana@x.example")
    travel.by(minutes=14)
    ratelimit.failure("sign_in_account", "dana@x.example")
    assert ratelimit.locked("sign_in_account", "dana@x.example").allowed
    locking = ratelimit.failure("sign_in_account", "dana@x.example")
    assert (locking.allowed, locking.retry_after) == (False, 15 * 60)
    travel.by(minutes=5)  # the first failure's window would have ended here; the lockout has not
    assert ratelimit.locked("sign_in_account", "dana@x.example").retry_after == 10 * 60
    travel.by(minutes=10)
    assert ratelimit.locked("sign_in_account", "dana@x.example").allowed


@override_settings(SERVICELOOP_RATE_QR_IP="off")
def test_a_rule_switched_off_counts_nothing(db: Any) -> None:
    assert all(ratelimit.hit("qr_ip", "x").allowed for _ in range(50))
    assert not RateLimitCounter.objects.exists()


@override_settings(SERVICELOOP_RATE_QR_IP="3/10m", SERVICELOOP_RATE_WIDGET_IP="3/1h")
def test_housekeeping_deletes_the_windows_that_ended(db: Any, travel: Any) -> None:
    ratelimit.hit("qr_ip", "a")
    ratelimit.hit("widget_ip", "a")
    travel.by(minutes=11)
    assert housekeeping()["rate_limit_counters"] == 1
    assert list(RateLimitCounter.objects.values_list("rule", flat=True)) == ["widget_ip"]


def at_once(*calls: Any) -> list[Any]:
    """The calls in threads that start together, each on a database connection of its own."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(30)
            results[index] = calls[index]()
        except Exception as error:  # handed to the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@override_settings(SERVICELOOP_RATE_QR_IP="5/10m")
def test_concurrent_hits_from_many_connections_are_each_counted(transactional_db: Any) -> None:
    # Each thread has its own database connection, as separate web processes do.
    results = at_once(*[lambda: ratelimit.hit("qr_ip", "198.51.100.7") for _ in range(8)])
    assert not [result for result in results if isinstance(result, Exception)], results
    assert sorted(result.hits for result in results) == list(range(1, 9))
    assert [result.allowed for result in results].count(True) == 5
    assert RateLimitCounter.objects.get().hits == 8
