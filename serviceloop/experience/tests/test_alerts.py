"""Alerts: one open per cause, re-armed after recovery, acknowledged, mailed, shown to staff only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Service
from serviceloop.core.errors import NotAllowed
from serviceloop.core.models import Event, OutgoingMail
from serviceloop.core.testing import wait_until
from serviceloop.experience.alert_queries import open_alert_count
from serviceloop.experience.alerts import alert_acknowledge, alert_on_xla_change, alert_raise, alert_recover
from serviceloop.experience.models import Alert
from serviceloop.feedback.tests.factories_channels import make_service

pytestmark = pytest.mark.django_db

FIGURES = {
    "metric": "happiness",
    "label": "Happiness",
    "unit": "points",
    "recent": {"value": -25.0, "n": 60, "interval": [-45.9, -4.1], "from": "2026-11-24", "to": "2026-11-30"},
    "baseline": {"value": 30.0, "n": 200, "interval": [19.2, 40.8], "from": "2026-08-26", "to": "2026-11-23"},
    "test": "difference of NPS-style scores (DOMAIN §2 variance)",
    "z": 4.568,
    "p_value": 2e-06,
    "q_value": 2e-06,
    "fdr": 0.05,
    "recover_p": 0.2,
    "tests_in_run": 1,
}


@pytest.fixture
def payroll(sam: User) -> Service:
    return make_service("Payroll", manager=sam)


def raise_drop(service: Service, cause: str = "drop:payroll:happiness") -> Alert:
    return alert_raise(service=service, kind="drop", cause=cause, title="Happiness fell on Payroll", figures=FIGURES)


def test_raising_an_open_cause_again_changes_nothing(payroll: Service, sam: User) -> None:
    first = raise_drop(payroll)
    again = alert_raise(
        service=payroll, kind="drop", cause="drop:payroll:happiness", title="Other title", figures={"z": 9}
    )
    assert again.pk == first.pk and again.title == "Happiness fell on Payroll" and again.figures == FIGURES
    assert Alert.objects.count() == 1 and OutgoingMail.objects.count() == 1
    assert Event.objects.filter(name="alert.raised").count() == 1
    assert first.addressed_to == sam and first.opened_at is not None
    # Another cause of the same service is its own alert.
    raise_drop(payroll, "drop:payroll:csat")
    assert Alert.objects.count() == 2


def test_recovery_re_arms_the_cause(payroll: Service) -> None:
    first = raise_drop(payroll)
    assert alert_recover("drop:payroll:happiness", figures={"p_value": 0.5})
    assert alert_recover("drop:payroll:happiness") is None  # nothing open any more
    first.refresh_from_db()
    assert first.state == "recovered" and first.recovery_figures == {"p_value": 0.5}
    second = raise_drop(payroll)
    assert second.pk != first.pk and second.state == "open"
    assert OutgoingMail.objects.count() == 2
    assert list(Event.objects.filter(name__startswith="alert.").order_by("pk").values_list("name", flat=True)) == [
        "alert.raised",
        "alert.recovered",
        "alert.raised",
    ]


def test_the_database_holds_one_open_alert_per_cause(payroll: Service) -> None:
    from django.db import IntegrityError, transaction

    first = raise_drop(payroll)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(service=payroll, kind="drop", cause=first.cause, title="twin", opened_at=first.opened_at)


def test_bad_kind_or_cause_is_refused(payroll: Service) -> None:
    from serviceloop.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="kind"):
        alert_raise(service=payroll, kind="fire", cause="x", title="t", figures={})
    with pytest.raises(InvalidInput, match="cause"):
        alert_raise(service=payroll, kind="drop", cause="  ", title="t", figures={})


def test_acknowledgement_keeps_the_first_and_is_for_staff(payroll: Service, alex: User, sam: User, carol: User) -> None:
    alert = raise_drop(payroll)
    assert open_alert_count(sam) == 1
    with pytest.raises(NotAllowed):
        alert_acknowledge(alert, carol)
    done = alert_acknowledge(alert, alex)
    assert done.acknowledged_by == alex and done.acknowledged_at is not None
    again = alert_acknowledge(alert, sam)
    assert again.acknowledged_by == alex and again.acknowledged_at == done.acknowledged_at
    assert Event.objects.filter(name="alert.acknowledged").count() == 1
    assert open_alert_count(sam) == 0  # the badge counts the open alerts nobody has seen yet
    assert open_alert_count(carol) == 0


def test_xla_state_changes_raise_and_recover(payroll: Service) -> None:
    cause = "xla:x42"
    figures = {"xla_id": "x42", "evaluation_id": 7, "value": 48.0, "n": 120}
    risk = alert_on_xla_change(
        service=payroll, xla_label="Happiness ≥ +60", cause=cause, from_state="met", to_state="at_risk", figures=figures
    )
    assert risk is not None and risk.kind == "xla" and risk.title == "XLA Happiness ≥ +60 on Payroll is at risk"
    assert risk.figures == {**figures, "from": "met", "to": "at_risk"}
    # Worse while open: still the one alert of the cause (no second mail).
    breached = alert_on_xla_change(
        service=payroll, xla_label="Happiness ≥ +60", cause=cause, from_state="at_risk", to_state="breached", figures={}
    )
    assert breached is not None and breached.pk == risk.pk
    # A state that is neither (not enough data) changes nothing.
    assert (
        alert_on_xla_change(
            service=payroll, xla_label="H", cause=cause, from_state="breached", to_state="unknown", figures={}
        )
        is None
    )
    met = alert_on_xla_change(
        service=payroll, xla_label="H", cause=cause, from_state="breached", to_state="met", figures={"value": 62.0}
    )
    assert met is not None and met.pk == risk.pk and met.state == "recovered"
    assert met.recovery_figures == {"value": 62.0, "from": "breached", "to": "met"}
    again = alert_on_xla_change(
        service=payroll, xla_label="H", cause=cause, from_state="met", to_state="breached", figures={}
    )
    assert again is not None and again.pk != risk.pk and again.title == "XLA H on Payroll is breached"
    assert OutgoingMail.objects.count() == 2


@pytest.mark.worker
def test_a_new_alert_is_mailed_to_the_service_manager_by_the_worker(
    celery_worker: Any, smtp_server: Any, sam: User
) -> None:
    service = make_service("Payroll", manager=sam)
    alert = raise_drop(service)
    [mail] = smtp_server.wait_for(1, timeout=30)
    assert mail["To"] == "sam@provider.example"
    assert mail["X-Serviceloop-Alert"] == alert.public_id
    text = mail.get_body(("plain",)).get_content()
    assert "Hello Sam Manager," in text
    assert "Recent: -25.0 points [-45.9, -4.1] (n = 60, 2026-11-24 to 2026-11-30)" in text
    assert "Baseline: 30.0 points [19.2, 40.8] (n = 200, 2026-08-26 to 2026-11-23)" in text
    assert "z = 4.568, one-sided p < 0.0001, q (Benjamini–Hochberg) < 0.0001 at a false-discovery rate of 0.05" in text
    assert f"http://testserver/experience/alerts/{alert.public_id}/" in text
    # The SMTP server has the mail a moment before the worker records that it was accepted.
    wait_until(
        lambda: OutgoingMail.objects.filter(status=OutgoingMail.Status.SENT).count() == 1,
        message="the worker to record the alert mail as sent",
    )


# ----------------------------------------------------------------------------------------- pages


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_staff_see_the_list_the_count_in_the_navigation_and_the_figures(
    payroll: Service, alex: User, django_assert_max_num_queries: Any
) -> None:
    alert = raise_drop(payroll)
    for i in range(5):
        raise_drop(payroll, f"drop:payroll:m{i}")
    client = signed_in(alex)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("experience:alert_list"))
    body = page.content.decode()
    assert page.status_code == 200
    assert len(re.findall(r'href="/experience/alerts/\w+/"', body)) == 6
    assert 'Alerts <span class="badge bad">6</span>' in body
    detail = client.get(reverse("experience:alert_detail", args=[alert.public_id])).content.decode()
    assert "Happiness fell on Payroll" in detail and "2026-08-26 to 2026-11-23" in detail
    assert "4.568" in detail and "<dd>&lt; 0.0001</dd>" in detail and "Acknowledge</button>" in detail
    # One service's alerts (the service page's link); an unknown service is not a filter at all.
    other = raise_drop(make_service("Ride booking", manager=payroll.service_manager), "drop:rides:csat")
    mine = client.get(reverse("experience:alert_list"), {"service": payroll.public_id}).content.decode()
    assert other.public_id not in mine and alert.public_id in mine and "Service: <strong>Payroll</strong>" in mine
    assert other.public_id in client.get(reverse("experience:alert_list"), {"service": "nope"}).content.decode()
    # Addressed to me: Sam's alerts are not Alex's.
    assert (
        "No alerts match these filters" in client.get(reverse("experience:alert_list"), {"mine": "1"}).content.decode()
    )
    assert (
        alert.public_id
        in signed_in(payroll.service_manager).get(reverse("experience:alert_list"), {"mine": "1"}).content.decode()
    )
    # The filters: recovered shows none yet, with a way back.
    empty = client.get(reverse("experience:alert_list"), {"state": "recovered"}).content.decode()
    assert "No alerts match these filters" in empty


def test_the_list_pages_and_says_when_nothing_is_open(payroll: Service, alex: User, settings: Any) -> None:
    settings.SERVICELOOP_PAGE_SIZE = 2
    client = signed_in(alex)
    assert "No open alerts" in client.get(reverse("experience:alert_list")).content.decode()
    for i in range(5):
        raise_drop(payroll, f"drop:payroll:m{i}")
    body = client.get(reverse("experience:alert_list"), {"page": 3}).content.decode()
    assert "Page 3 of 3" in body and len(re.findall(r'href="/experience/alerts/\w+/"', body)) == 1


def test_acknowledging_on_the_page(payroll: Service, sam: User) -> None:
    alert = raise_drop(payroll)
    client = signed_in(sam)
    url = reverse("experience:alert_acknowledge", args=[alert.public_id])
    answer = client.post(url)
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "experience:alert_detail", args=[alert.public_id]
    )
    alert.refresh_from_db()
    assert alert.acknowledged_by == sam
    page = client.get(answer["Location"]).content.decode()
    assert "Sam Manager" in page and "Acknowledge</button>" not in page
    assert client.get(url).status_code == 405


def test_customers_see_no_alerts(payroll: Service, carol: User, bob: User) -> None:
    alert = raise_drop(payroll)
    for customer in (carol, bob):
        client = signed_in(customer)
        assert client.get(reverse("experience:alert_list")).status_code == 403
        assert client.get(reverse("experience:alert_detail", args=[alert.public_id])).status_code == 403
        assert client.post(reverse("experience:alert_acknowledge", args=[alert.public_id])).status_code == 403
        assert "/experience/alerts/" not in client.get(reverse("home")).content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_an_unknown_alert_is_404(alex: User) -> None:
    assert signed_in(alex).get(reverse("experience:alert_detail", args=["nosuchalert1"])).status_code == 404
