"""The event log as staff read it: filters, one object's history, empty states; customers never see it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.core.tests.factories import make_event

pytestmark = pytest.mark.usefixtures("only_this_tests_events")


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _names(response: Any) -> list[str]:
    return [row["event"].name for row in response.context["rows"]]


def test_staff_read_events_newest_first_with_who_did_them(alex: Any, sam: Any, carol: Any) -> None:
    make_event("tests.first", subject=carol, by=sam, created_at=datetime(2026, 3, 1, 9, tzinfo=UTC))
    make_event("tests.second", subject=carol, created_at=datetime(2026, 3, 2, 9, tzinfo=UTC))
    response = _client(alex).get(reverse("core:event_log"))
    assert response.status_code == 200
    assert _names(response) == ["tests.second", "tests.first"]
    page = response.content.decode()
    assert "sam@provider.example" in page
    assert "system" in page  # the second event had no actor


def test_times_are_shown_in_the_viewers_time_zone(alex: Any) -> None:
    alex.time_zone = "Europe/Berlin"
    alex.save()
    make_event("tests.timed", created_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    response = _client(alex).get(reverse("core:event_log"))
    assert "1 Mar 2026 10:00:00" in response.content.decode()


def test_the_event_name_filter_keeps_only_that_event(alex: Any) -> None:
    make_event("tests.kept")
    make_event("tests.dropped")
    response = _client(alex).get(reverse("core:event_log"), {"name": "tests.kept"})
    assert _names(response) == ["tests.kept"]


def test_the_actor_filter_finds_events_by_the_email_of_who_did_them(alex: Any, sam: Any) -> None:
    make_event("tests.by_sam", by=sam)
    make_event("tests.by_alex", by=alex)
    response = _client(alex).get(reverse("core:event_log"), {"actor": "SAM@provider.example"})
    assert _names(response) == ["tests.by_sam"]


def test_the_date_filters_include_the_whole_last_day(alex: Any) -> None:
    make_event("tests.before", created_at=datetime(2026, 2, 28, 23, tzinfo=UTC))
    make_event("tests.inside", created_at=datetime(2026, 3, 1, 12, tzinfo=UTC))
    make_event("tests.last_evening", created_at=datetime(2026, 3, 2, 22, tzinfo=UTC))
    make_event("tests.after", created_at=datetime(2026, 3, 3, 1, tzinfo=UTC))
    response = _client(alex).get(reverse("core:event_log"), {"since": "2026-03-01", "until": "2026-03-02"})
    assert _names(response) == ["tests.last_evening", "tests.inside"]


def test_the_text_filter_matches_the_objects_label(alex: Any, carol: Any, bob: Any) -> None:
    make_event("tests.about_carol", subject=carol)
    make_event("tests.about_bob", subject=bob)
    response = _client(alex).get(reverse("core:event_log"), {"q": "carol customer"})
    assert _names(response) == ["tests.about_carol"]


def test_an_end_date_before_the_start_is_shown_next_to_the_field(alex: Any) -> None:
    response = _client(alex).get(reverse("core:event_log"), {"since": "2026-03-02", "until": "2026-03-01"})
    assert response.status_code == 200
    assert "before the start date" in str(response.context["form"].errors["until"])


def test_an_unparsable_date_is_shown_next_to_the_field_and_the_other_filters_still_apply(alex: Any) -> None:
    make_event("tests.kept")
    make_event("tests.dropped")
    response = _client(alex).get(reverse("core:event_log"), {"since": "yesterday", "name": "tests.kept"})
    assert "valid date" in str(response.context["form"].errors["since"])
    assert _names(response) == ["tests.kept"]


def test_one_objects_history_shows_only_that_objects_events(alex: Any, carol: Any, bob: Any) -> None:
    make_event("tests.about_carol", subject=carol)
    make_event("tests.about_bob", subject=bob)
    make_event("tests.about_nothing")
    url = reverse("core:object_history", kwargs={"subject_type": "accounts.user", "public_id": carol.public_id})
    response = _client(alex).get(url)
    assert response.status_code == 200
    assert _names(response) == ["tests.about_carol"]
    assert "History" in response.content.decode()


def test_the_history_of_an_unknown_object_is_404(alex: Any) -> None:
    unknown = reverse("core:object_history", kwargs={"subject_type": "accounts.user", "public_id": "nosuchid"})
    no_kind = reverse("core:object_history", kwargs={"subject_type": "nothing.here", "public_id": "x"})
    django_table = reverse("core:object_history", kwargs={"subject_type": "auth.group", "public_id": "x"})
    client = _client(alex)
    assert [client.get(url).status_code for url in (unknown, no_kind, django_table)] == [404, 404, 404]


def test_an_empty_log_says_what_will_appear_there(alex: Any) -> None:
    response = _client(alex).get(reverse("core:event_log"))
    assert "No events yet" in response.content.decode()


def test_filters_that_match_nothing_say_so(alex: Any) -> None:
    make_event("tests.something")
    response = _client(alex).get(reverse("core:event_log"), {"q": "no such label"})
    assert "No events match these filters" in response.content.decode()


def test_the_log_pages_through_many_events(alex: Any, settings: Any) -> None:
    settings.SERVICELOOP_PAGE_SIZE = 2
    for number in range(5):
        make_event(f"tests.number_{number}")
    response = _client(alex).get(reverse("core:event_log"), {"page": 3})
    assert _names(response) == ["tests.number_0"]
    assert "Page 3 of 3" in response.content.decode()


def test_a_customer_is_refused_the_event_log_and_any_objects_history(carol: Any) -> None:
    make_event("tests.about_carol", subject=carol)
    client = _client(carol)
    history = reverse("core:object_history", kwargs={"subject_type": "accounts.user", "public_id": carol.public_id})
    assert client.get(reverse("core:event_log")).status_code == 403
    assert client.get(history).status_code == 403


def test_the_navigation_offers_the_event_log_to_staff_but_not_to_customers(alex: Any, carol: Any) -> None:
    assert "Event log" in _client(alex).get(reverse("core:event_log")).content.decode()
    assert "Event log" not in _client(carol).get(reverse("accounts:tokens")).content.decode()
