"""XLA pages: the list with the SLA beside each XLA (and the watermelon), the detail with its chart and
history, the forms, what customers see."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.experience.models import Xla
from serviceloop.experience.tests.xla_factories import answers, at, make_person, refresh, resolved
from serviceloop.experience.xlas import xla_create, xla_evaluate
from serviceloop.relationships.models import Relationship

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def watermelon(
    settings: Any,
    sam: User,
    service: Service,
    offering: Offering,
    relationship_a: Relationship,
    org_a: Organisation,
    travel: Any,
) -> Xla:
    """Acme's relationship: every SLA clock met on ten tickets, and five unhappy answers (−100)."""
    settings.SERVICELOOP_MIN_SAMPLE = 5
    travel.to(at("2026-06-30 12:00"))
    pat = make_person(org_a, "pat@acme.example")
    for day in range(10, 20):
        resolved(service, pat, f"2026-06-{day} 10:00", offering=offering)
    answers(service, "2026-06-20 10:00", 0, 0, 0, 0, 0, organisation=org_a, offering=offering)
    refresh()
    return xla_create(
        by=sam, name="Acme happiness", relationship=relationship_a, metric="happiness", target=Decimal("0")
    )


def test_the_list_shows_the_sla_beside_and_marks_the_watermelon(
    watermelon: Xla, sam: User, service: Service, django_assert_max_num_queries: Any
) -> None:
    green = xla_create(by=sam, name="Mail ease", service=service, metric="ces", target=Decimal("0"))
    client = client_for(sam)
    page = client.get(reverse("experience:xla_list")).content.decode()
    assert "Acme happiness" in page and "Mail ease" in page
    assert "Acme Logistics × Mailbox" in page and "Email &amp; collaboration (whole service)" in page
    assert page.count("Watermelon: SLA green, experience red") == 1
    assert "first response 100.0% (n 10) · resolution 100.0% (n 10)" in page
    assert '<tr class="watermelon">' in page and "Breached" in page and green.state == "not_enough_data"
    # Many XLAs, one page: the queries stay the same (no query per row).
    for index in range(30):
        xla_create(by=sam, name=f"XLA {index}", service=service, metric="ces", target=Decimal("0"))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("experience:xla_list")).status_code == 200
    # Filters: by state, by service.
    breached = client.get(reverse("experience:xla_list"), {"state": "breached"}).content.decode()
    assert "Acme happiness" in breached and "XLA 1" not in breached
    assert (
        "No XLAs match these filters."
        in client.get(reverse("experience:xla_list"), {"state": "at_risk"}).content.decode()
    )


def test_the_detail_shows_the_figure_the_sla_the_chart_and_the_history(watermelon: Xla, sam: User, travel: Any) -> None:
    answers(
        watermelon.service,
        "2026-06-30 09:00",
        *[10] * 10,
        organisation=watermelon.relationship.organisation,
        offering=watermelon.relationship.offering,
    )  # type: ignore[union-attr]
    refresh()
    travel.to(at("2026-06-30 13:00"))
    xla_evaluate(watermelon)  # 10 − 5 of 15 → +33.3: met
    page = client_for(sam).get(reverse("experience:xla_detail", args=[watermelon.public_id])).content.decode()
    assert "+33.3" in page and "n 15" in page and "SLA met" in page
    assert "Watermelon" not in page  # met now
    assert '<figure class="chart">' in page and "<svg" in page and "Happiness by week" in page
    chart = page.split('<figure class="chart">')[1].split("</figure>")[0]
    assert "Target" in chart and "&lt;script" not in chart and "<script" not in chart
    history = page.split('class="table xla-history"')[1]
    assert history.index("2026-06-30 13:00") < history.index("2026-06-30 12:00")  # newest first
    assert "Breached" in history and "Met" in history
    assert "Evaluate now" in page and "Edit XLA" in page


def test_a_manager_creates_and_edits_an_xla_through_the_forms(sam: User, service: Service, travel: Any) -> None:
    travel.to(at("2026-06-30 12:00"))
    client = client_for(sam)
    form = {
        "name": "Mail happiness",
        "service": service.pk,
        "metric": "happiness",
        "comparator": "gte",
        "target": "150",
        "window": "rolling_30",
        "baseline_kind": "none",
    }
    refused = client.post(reverse("experience:xla_create"), form)
    assert refused.status_code == 422
    assert "outside the range of happiness (-100 to 100 points)" in refused.content.decode()
    no_scope = client.post(reverse("experience:xla_create"), {**form, "service": "", "target": "10"})
    assert no_scope.status_code == 422 and "Pick a service or a relationship." in no_scope.content.decode()
    created = client.post(reverse("experience:xla_create"), {**form, "target": "10"})
    xla = Xla.objects.get()
    assert created.status_code == 302 and created["Location"] == reverse("experience:xla_detail", args=[xla.public_id])
    assert (xla.state, xla.start_date.isoformat(), xla.risk_margin) == ("not_enough_data", "2026-06-30", Decimal("5"))

    edit = {**form, "target": "20", "window": "month", "version": 1}
    del edit["service"]
    assert client.post(reverse("experience:xla_edit", args=[xla.public_id]), edit).status_code == 302
    xla.refresh_from_db()
    assert (xla.target, xla.window, xla.version) == (Decimal("20"), "month", 2)
    stale = client.post(reverse("experience:xla_edit", args=[xla.public_id]), {**edit, "target": "30"})
    assert stale.status_code == 422 and "reload" in stale.content.decode()

    assert client.post(reverse("experience:xla_archive", args=[xla.public_id])).status_code == 302
    xla.refresh_from_db()
    assert xla.status == "archived"
    page = client.get(reverse("experience:xla_detail", args=[xla.public_id])).content.decode()
    assert "no longer evaluated" in page and "Evaluate now" not in page


def test_customers_see_their_own_relationships_xlas_read_only(
    watermelon: Xla, carol: User, bob: User, alex: User, sam: User, service: Service
) -> None:
    whole = xla_create(by=sam, name="Mail happiness", service=service, metric="happiness", target=Decimal("0"))
    carols = client_for(carol)
    page = carols.get(reverse("experience:xla_list")).content.decode()
    assert "Acme happiness" in page and "Mail happiness" not in page and "New XLA" not in page
    detail = carols.get(reverse("experience:xla_detail", args=[watermelon.public_id]))
    assert detail.status_code == 200 and "Evaluate now" not in detail.content.decode()
    assert carols.get(reverse("experience:xla_detail", args=[whole.public_id])).status_code == 404
    assert carols.get(reverse("experience:xla_edit", args=[watermelon.public_id])).status_code == 403
    bobs = client_for(bob).get(reverse("experience:xla_list")).content.decode()
    assert "Acme happiness" not in bobs and "Your organisation has no experience level agreements yet." in bobs
    assert client_for(bob).get(reverse("experience:xla_detail", args=[watermelon.public_id])).status_code == 404
    # Agents read everything, change nothing.
    agents = client_for(alex).get(reverse("experience:xla_list")).content.decode()
    assert "Acme happiness" in agents and "Mail happiness" in agents and "New XLA" not in agents
