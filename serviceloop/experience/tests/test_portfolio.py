"""The portfolio on staff's home page: figures equal compute()'s, "fell the most", hotspots, empty states, CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import PASSWORD
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.testing import Travel
from serviceloop.experience.api import compute
from serviceloop.experience.metrics import METRICS, Figure
from serviceloop.experience.portfolio import Fall, portfolio, service_page_url, trends_fill
from serviceloop.experience.rollups import rollups_rebuild
from serviceloop.experience.tally import Scope
from serviceloop.experience.templatetags.experience_figures import figure_text, interval_text, signed
from serviceloop.experience.tests.factories import make_service, respond

pytestmark = pytest.mark.django_db

TODAY = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a Monday
PERIOD = Scope(since=date(2026, 9, 2), until=date(2026, 11, 30))  # the default 90 days


def answers(service: Service, when: str, scores: list[int], **fields: Any) -> None:
    for score in scores:
        respond(service, when, happiness=score, **fields)


@pytest.fixture
def seeded(settings: Any, travel: Travel, sam: User, org_a: Organisation, org_b: Organisation) -> dict[str, Any]:
    """Four live services and a retired one; October is the previous 30 days, November this 30 days.

    Payroll:  Oct 6×10, 2×8 (A) → +75;  Nov 2×10, 2×8 (A), 4×0 (B, a day lost each) on Payslips → −25
    Email:    Oct 4×10 (A), 4×8 (B) → +50;  Nov 3×10 (A), 5×8 (B, <30 min lost each) → +37.5
    Laptops:  Oct 2×10, 6×8 (B) → +25;  Nov 4×10, 4×8 (B) → +50 (rose); one CSAT-only answer
    Desk:     Oct 2×10 (too few to compare);  Nov 4×9 (A)
    Archive:  retired, 10×0 — in no figure.
    """
    settings.SERVICELOOP_MIN_SAMPLE = 4
    travel.to(TODAY)
    payroll, email, laptops, desk = (
        make_service(name, manager=sam) for name in ("Payroll", "Email", "Laptops", "Desk")
    )
    archive = make_service("Archive", manager=sam)
    Service.objects.filter(pk=archive.pk).update(lifecycle=Service.Lifecycle.RETIRED)
    payslips = Offering.objects.create(service=payroll, name="Payslips", slug="payslips")
    october, november = "2026-10-05 10:00", "2026-11-10 10:00"
    answers(payroll, october, [10] * 6 + [8] * 2, organisation=org_a)
    answers(payroll, november, [10, 10, 8, 8], organisation=org_a, offering=payslips)
    answers(payroll, november, [0] * 4, organisation=org_b, offering=payslips, lost_time_bucket="gt1day")
    answers(email, october, [10] * 4, organisation=org_a)
    answers(email, october, [8] * 4, organisation=org_b)
    answers(email, november, [10] * 3, organisation=org_a)
    answers(email, november, [8] * 5, organisation=org_b, lost_time_bucket="lt30")
    answers(laptops, october, [10] * 2 + [8] * 6, organisation=org_b)
    answers(laptops, november, [10] * 4 + [8] * 4, organisation=org_b)
    respond(laptops, november, organisation=org_b, csat=5)
    answers(desk, october, [10] * 2, organisation=org_a)
    answers(desk, november, [9] * 4, organisation=org_a)
    answers(archive, november, [0] * 10, organisation=org_b)
    rollups_rebuild()  # the pages may read the rollups: keep them equal to the rows written here
    return {"payroll": payroll, "email": email, "laptops": laptops, "desk": desk, "archive": archive}


def sign_in(tab: Any, base: str, email: str, next_path: str) -> None:
    tab.goto(f"{base}/accounts/login/?next={next_path}")
    tab.get_by_label("Email").fill(email)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()


def row_of(html: str, public_id: str) -> str:
    """One service's row of the portfolio table (its trend cell holds a table of its own)."""
    start = html.index(f'<tr data-service="{public_id}">')
    return html[start : html.index("</tr>", html.index('data-figure="xla"', start)) + 5]


def get_home(user: User, **params: Any) -> Any:
    client = Client()
    client.force_login(user)
    return client.get("/", params)


def test_every_live_service_with_the_figures_compute_gives(seeded: dict[str, Any], sam: User) -> None:
    result = portfolio(sam)
    assert (result.period.since, result.period.until) == (PERIOD.since, PERIOD.until)
    assert [row.name for row in result.rows] == ["Desk", "Email", "Laptops", "Payroll"]  # not the retired Archive
    ids = tuple(seeded[name].pk for name in ("payroll", "email", "laptops", "desk"))
    names = ["happiness", "lost_time_mean", "lost_time_total"]
    expected = {
        key["service"]: figures
        for key, figures in compute(Scope(service_ids=ids, since=PERIOD.since, until=PERIOD.until), ["service"], names)
    }
    for row in result.rows:
        assert [row.score, row.lost_mean, row.lost_total] == expected[row.public_id]
    by_name = {row.name: row for row in result.rows}
    # Payroll: 8 promoters and 4 detractors of 16 → +25; four answers lost a day (600 min) each.
    payroll = by_name["Payroll"]
    assert (payroll.score.value, payroll.score.n) == (25.0, 16)
    assert (payroll.lost_mean.value, payroll.lost_mean.n, payroll.lost_total.value) == (600.0, 4, 2400.0)
    # Responses count every response: Laptops' CSAT-only answer is one of its 17, not of its 16 scores.
    assert (by_name["Laptops"].responses, by_name["Laptops"].score.n) == (17, 16)
    assert by_name["Desk"].lost_mean.value is None and by_name["Desk"].lost_mean.n == 0
    # The portfolio's baseline: 27 promoters, 4 detractors of 54 → 42.6.
    assert (result.baseline.value, result.baseline.n) == (42.6, 54)
    assert payroll.url == f"/experience/services/{seeded['payroll'].public_id}/" == service_page_url(payroll.public_id)
    assert all(row.xla_state == "—" for row in result.rows)


def test_the_page_shows_those_figures(seeded: dict[str, Any], sam: User) -> None:
    answer = get_home(sam)
    assert answer.status_code == 200
    html = answer.content.decode()
    for row in portfolio(sam).rows:
        cells = row_of(html, row.public_id)
        shown = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', cells))
        assert shown["score"] == figure_text(row.score)
        assert shown["n"] == str(row.score.n)
        assert shown["lost_time_mean"] == figure_text(row.lost_mean)
        assert shown["responses"] == str(row.responses)
        assert shown["xla"] == "—"
        assert f'href="{row.url}"' in cells
    assert "Archive" not in html
    assert "+25.0" in html and "10 h 0 min" in html  # Payroll


def test_the_trend_is_weekly_over_twelve_weeks(seeded: dict[str, Any], sam: User) -> None:
    rows = portfolio(sam).rows
    trends_fill(rows, METRICS["happiness"], date(2026, 11, 30))
    payroll = next(row for row in rows if row.name == "Payroll")
    # Twelve ISO weeks named by their Monday: 14 September (30 November − 11 weeks) to 30 November.
    assert payroll.trend[0][0] == date(2026, 9, 14)
    assert len(payroll.trend) == 12 and payroll.trend[-1][0] == date(2026, 11, 30)
    weekly = {
        key["week"]: figures[0]
        for key, figures in compute(
            Scope(service_ids=(seeded["payroll"].pk,), since=date(2026, 9, 14), until=date(2026, 11, 30)),
            ["week"],
            ["happiness"],
        )
    }
    shown = {week.isoformat(): figure for week, figure in payroll.trend if figure is not None}
    assert shown == weekly
    assert shown["2026-10-05"].value == 75.0 and shown["2026-11-09"].value == -25.0
    # On the page: a sparkline with its data table, one row per week, the empty weeks "not enough data".
    html = get_home(sam).content.decode()
    trend = row_of(html, payroll.public_id)
    # Two weeks with a value, each between gaps: two dots (a one-point line would not show).
    assert '<svg class="sparkline"' in trend and trend.count("<circle") >= 2
    weeks = dict(re.findall(r'<tr><th scope="row">([\d-]+)</th><td>([^<]*)</td>', trend))
    assert list(weeks) == [week.isoformat() for week, _figure in payroll.trend]
    assert (weeks["2026-10-05"], weeks["2026-11-09"], weeks["2026-09-14"]) == ("+75.0", "-25.0", "not enough data")


def test_fell_the_most_orders_by_the_fall_and_tests_it(seeded: dict[str, Any], sam: User) -> None:
    result = portfolio(sam)
    assert (result.fall_period.since, result.fall_period.until) == (date(2026, 11, 1), date(2026, 11, 30))
    # Payroll, Email and Laptops have ≥ 4 answers in both Octobers and Novembers; Desk had 2 in October.
    assert result.tested == 3
    assert [(fall.name, fall.before.value, fall.after.value, fall.change) for fall in result.falls] == [
        ("Payroll", 75.0, -25.0, -100.0),
        ("Email", 50.0, 37.5, -12.5),
    ]  # Laptops rose: not a fall
    payroll, email = result.falls
    # The z of the drop (positive: worse), one-sided, as the alerts test it. Payroll by hand:
    # V_then = (0.75 − 0.75²)/8 = 0.0234375, V_now = (0.75 − 0.25²)/8 = 0.0859375;
    # z = (0.75 − (−0.25))/√0.109375 = 3.02; p = 0.00125 ≤ 1 × 0.05/3: significant (BH, 3 services).
    assert payroll.z == pytest.approx(3.02, abs=0.01) and payroll.p == pytest.approx(0.00125, abs=5e-5)
    assert payroll.significant is True
    # Email: V_then = (0.5 − 0.25)/8, V_now = (0.375 − 0.140625)/8; z = 0.125/√0.060547 = 0.51, p = 0.31:
    # above 2 × 0.05/3 (and Laptops, which rose, has p ≈ 0.9): within chance.
    assert email.z == pytest.approx(0.51, abs=0.01) and email.p == pytest.approx(0.306, abs=0.005)
    assert email.significant is False
    html = get_home(sam).content.decode()
    falls = html[html.index('id="falls-head"') : html.index('id="hotspots-head"')]
    assert falls.index("Payroll") < falls.index("Email") and "Laptops" not in falls
    assert "significant</span>" in falls and "within chance" in falls


def test_hotspots_ranked_by_impact_against_the_portfolio(seeded: dict[str, Any], sam: User) -> None:
    result = portfolio(sam)
    # Baseline +42.6 (54 answers). Payroll × Borealis: 4 answers at −100 → 4 × (−100 − 42.6) = −570.4;
    # Payroll × Payslips: 2 promoters, 4 detractors of 8 → −25 → 8 × −67.6 = −540.8; Email × Borealis:
    # 9 × 8 → 0 → 9 × −42.6 = −383.4; Laptops × Borealis and × no offering: 6 of 16 → 37.5 → 16 × −5.1.
    # Better than the baseline, so not hotspots: Payroll × Acme +66.7, Email × Acme, Desk, Email × no offering +43.8.
    assert [
        (spot.service, spot.kind, spot.name, spot.responses, spot.value, spot.gap, spot.impact)
        for spot in result.hotspots
    ] == [
        ("Payroll", "organisation", "Borealis Health", 4, -100.0, -142.6, -570.4),
        ("Payroll", "offering", "Payslips", 8, -25.0, -67.6, -540.8),
        ("Email", "organisation", "Borealis Health", 9, 0.0, -42.6, -383.4),
        ("Laptops", "offering", "(no offering)", 16, 37.5, -5.1, -81.6),
        ("Laptops", "organisation", "Borealis Health", 16, 37.5, -5.1, -81.6),
    ]
    # Lost time: 9 answers, 4 × 600 + 5 × 15 = 2475 minutes → 275 per answer. Payroll × Borealis and
    # × Payslips: 4 answers at 600 → 4 × 325 = 1300 minutes beyond the baseline; Email's 15 is below.
    assert result.baseline_lost.value == 275.0
    assert [(spot.service, spot.name, spot.responses, spot.gap, spot.impact) for spot in result.lost_hotspots] == [
        ("Payroll", "Borealis Health", 4, 325.0, 1300.0),
        ("Payroll", "Payslips", 4, 325.0, 1300.0),
    ]
    assert any("driver" in note for note in result.notes)  # compute() cannot group by driver yet: said so
    html = get_home(sam).content.decode()
    assert "−570.4" in html and "+1300" in html


def test_the_csv_of_the_portfolio_table(seeded: dict[str, Any], sam: User) -> None:
    answer = get_home(sam, period="365", export="portfolio")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert [row["service"] for row in rows] == ["Desk", "Email", "Laptops", "Payroll"]
    payroll = rows[-1]
    assert payroll["service_id"] == seeded["payroll"].public_id
    assert (payroll["metric"], payroll["value"], payroll["n"], payroll["enough"]) == ("happiness", "25.0", "16", "yes")
    assert (payroll["lost_time_mean_minutes"], payroll["lost_time_total_minutes"], payroll["responses"]) == (
        "600.0",
        "2400.0",
        "16",
    )
    assert (payroll["from"], payroll["to"]) == ("2025-12-01", "2026-11-30")
    assert payroll["xla_state"] == ""
    low, high = float(payroll["interval_low"]), float(payroll["interval_high"])
    assert low < 25.0 < high


def test_the_period_selector_and_bad_input(seeded: dict[str, Any], sam: User) -> None:
    # 30 days: only November's answers. Payroll's 8 → −25.
    month = portfolio(sam, days=30)
    assert next(row for row in month.rows if row.name == "Payroll").score.value == -25.0
    html = get_home(sam, period="30").content.decode()
    assert '<option value="30" selected>' in html and "export=portfolio" in html
    for params in ({"period": "7"}, {"period": "ninety"}, {"export": "everything"}, {"sort": "mood"}):
        answer = get_home(sam, **params)
        assert answer.status_code == 400, params
        assert next(iter(params)) + ":" in answer.content.decode()


def test_sorting_by_score_puts_the_worst_first(seeded: dict[str, Any], sam: User) -> None:
    html = get_home(sam, sort="score").content.decode()
    order = re.findall(r'<tr data-service="(\w+)">', html)
    # Payroll +25, Laptops +37.5, Email +43.8, Desk +100.
    assert order == [seeded[name].public_id for name in ("payroll", "laptops", "email", "desk")]


def test_the_xla_hook_shows_a_state_given(seeded: dict[str, Any], sam: User) -> None:
    result = portfolio(sam, xla_states={seeded["payroll"].pk: "breached"})
    assert {row.name: row.xla_state for row in result.rows} == {
        "Desk": "—",
        "Email": "—",
        "Laptops": "—",
        "Payroll": "breached",
    }


def test_another_primary_metric(seeded: dict[str, Any], sam: User, settings: Any) -> None:
    settings.SERVICELOOP_PRIMARY_METRIC = "csat"
    result = portfolio(sam)
    laptops = next(row for row in result.rows if row.name == "Laptops")
    assert (laptops.score.metric, laptops.score.n, laptops.score.value) == ("csat", 1, None)  # 1 < 4
    assert "CSAT" in get_home(sam).content.decode()
    settings.SERVICELOOP_PRIMARY_METRIC = "joy"
    with pytest.raises(ImproperlyConfigured, match="SERVICELOOP_PRIMARY_METRIC"):
        portfolio(sam)


def test_a_proportion_falls_by_the_two_proportion_test(sam: User, settings: Any, travel: Travel) -> None:
    # CSAT 45 of 100 in October, 30 of 100 in November: pooled z of the drop 2.19, one-sided p 0.0142.
    settings.SERVICELOOP_MIN_SAMPLE = 30
    settings.SERVICELOOP_PRIMARY_METRIC = "csat"
    travel.to(TODAY)
    service = make_service("Payroll", manager=sam)
    for when, satisfied in (("2026-10-10 09:00", 45), ("2026-11-10 09:00", 30)):
        for index in range(100):
            respond(service, when, csat=5 if index < satisfied else 2)
    rollups_rebuild()
    (fall,) = portfolio(sam).falls
    assert isinstance(fall, Fall)
    assert (fall.before.value, fall.after.value, fall.change) == (45.0, 30.0, -15.0)
    assert fall.z == 2.19 and fall.p == pytest.approx(0.01423, abs=1e-5) and fall.significant is True


def test_a_new_install_says_what_to_do_next(sam: User, alex: User) -> None:
    answer = get_home(sam)
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "No live services yet" in html and 'href="/catalogue/"' in html
    make_service("Payroll", manager=sam)
    html = get_home(alex).content.decode()  # agents see the portfolio too
    assert "No answers yet" in html
    for link in ('href="/feedback/surveys/"', 'href="/feedback/widgets/"', 'href="/api/docs"'):
        assert link in html
    assert "not enough data" in html


def test_customers_keep_their_portal(seeded: dict[str, Any], carol: User) -> None:
    answer = get_home(carol)
    assert answer.status_code == 302 and answer["Location"] == "/desk/portal/"
    assert get_home(carol, export="portfolio").status_code == 302


def test_a_fixed_handful_of_queries_whatever_the_number_of_services(
    seeded: dict[str, Any], sam: User, django_assert_max_num_queries: Any, django_assert_num_queries: Any
) -> None:
    client = Client()
    client.force_login(sam)
    client.get("/")  # warm the session
    # 41 today: the session and user, the services, seven compute() calls (each a few GROUP BYs), names.
    # The bound leaves room for compute() reading otherwise; what must not happen is growth per service.
    with django_assert_max_num_queries(60) as few:
        assert client.get("/").status_code == 200
    for index in range(6):
        service = make_service(f"Extra {index}", manager=sam)
        respond(service, "2026-11-10 10:00", happiness=9)
    rollups_rebuild()
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get("/").status_code == 200


def test_figures_as_text() -> None:
    happiness = Figure("happiness", "Happiness", -12.5, 40, (-40.1, 15.0), "points", True)
    assert (figure_text(happiness), interval_text(happiness)) == ("-12.5", "-40.1 – +15.0")
    assert figure_text(Figure("csat", "CSAT", 81.0, 40, (66.2, 90.4), "%", True)) == "81.0%"
    assert figure_text(Figure("lost_time_mean", "Lost", 181.0, 40, None, "minutes", True)) == "3 h 1 min"
    assert figure_text(Figure("csat", "CSAT", None, 3, None, "%", False)) == "not enough data"
    assert (signed(3.2), signed(-570.4), signed(0.0)) == ("+3.2", "−570.4", "0")


def test_the_table_pages_and_keeps_the_period(seeded: dict[str, Any], sam: User, settings: Any) -> None:
    settings.SERVICELOOP_PAGE_SIZE = 3
    first = get_home(sam, period="365").content.decode()
    assert re.findall(r'<tr data-service="(\w+)">', first) == [
        seeded[name].public_id for name in ("desk", "email", "laptops")
    ]
    assert 'href="?period=365&amp;sort=name&page=2"' in first  # the pager keeps the period and order
    second = get_home(sam, period="365", page="2").content.decode()
    assert re.findall(r'<tr data-service="(\w+)">', second) == [seeded["payroll"].public_id]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_manager_reads_the_portfolio_in_a_browser_and_it_agrees_with_the_api(
    live_server: Any, page: Any, seeded: dict[str, Any], sam: User
) -> None:
    sign_in(page, live_server.url, sam.email, "/")
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", name="Portfolio", exact=True).is_visible()
    api = page.request.get(
        f"{live_server.url}/api/experience/metrics?group_by=service&from=2026-09-02&to=2026-11-30"
        "&metrics=happiness,lost_time_mean,lost_time_total"
    )
    assert api.ok
    expected = {group["key"]["service"]: group["figures"] for group in api.json()["groups"]}
    rows = page.locator("table.portfolio > tbody > tr")
    assert rows.count() == 4
    for index in range(rows.count()):
        row = rows.nth(index)
        figures = [Figure(**{**figure, "interval": None}) for figure in expected[row.get_attribute("data-service")]]
        cell = {name: row.locator(f'[data-figure="{name}"]').inner_text().strip() for name in ("score", "n")}
        assert cell["score"] == figure_text(figures[0]) and cell["n"] == str(figures[0].n)
        assert row.locator('[data-figure="lost_time_mean"]').inner_text().strip() == figure_text(figures[1])
        assert row.locator('[data-figure="lost_time_total"]').inner_text().strip() == figure_text(figures[2])
    # The period from the keyboard: 30 days, then "Show".
    page.get_by_label("Period", exact=True).focus()
    page.get_by_label("Period", exact=True).select_option("30")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?period=30&sort=name")
    payroll = page.locator(f'tr[data-service="{seeded["payroll"].public_id}"] [data-figure="score"]')
    assert payroll.inner_text().strip() == "-25.0"


def test_too_many_groups_leave_out_a_part_not_the_page(
    seeded: dict[str, Any], sam: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Six service × organisation groups and eight service × week groups, over a limit of five.
    monkeypatch.setattr("serviceloop.experience.tally.MAX_GROUPS", 5)
    answer = get_home(sam)
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "Too many service × organisation groups" in html
    assert "Payslips" in html  # the four service × offering groups are still ranked


@pytest.mark.skipif(
    "lost_time_driver_communication" not in METRICS, reason="lost time per driver is not a metric on this branch yet"
)
def test_service_by_driver_hotspots_by_lost_time(seeded: dict[str, Any], sam: User) -> None:
    # Payroll's four lost days name communication; one Email answer (<30 min) names it too.
    from serviceloop.feedback.models import Response

    Response.objects.filter(service=seeded["payroll"], lost_time_bucket="gt1day").update(drivers=["communication"])
    Response.objects.filter(service=seeded["email"], lost_time_bucket="lt30").update(drivers=["communication"])
    rollups_rebuild()
    result = portfolio(sam)
    drivers = [(spot.service, spot.name, spot.responses, spot.gap, spot.impact) for spot in result.lost_hotspots]
    # Payroll × Communication: 4 answers, 2400 minutes → 600 per answer, 4 × (600 − 275) = 1300.
    # Email × Communication: 5 answers at 15 minutes, below the baseline: not a hotspot.
    assert ("Payroll", "Communication", 4, 325.0, 1300.0) in drivers
    assert not any(spot.service == "Email" for spot in result.lost_hotspots)
