"""Hostile and careless input at every edge: a 4xx naming the field or the line, never a 500, and
nothing stored by a refused request (issue 10). Run on SQLite and on PostgreSQL: NUL differs there.

Out-of-range dates, a bool as a score, NUL characters and lone surrogates, bytes that are not
UTF-8, chunked bodies (through gunicorn's own HTTP parser), PATCH bodies of nulls on every PATCH
route of the OpenAPI document, the value-item form's `-1e999`, a relationship's end date.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import api_client_for
from serviceloop.catalogue.models import Service, ValueItem
from serviceloop.catalogue.services import component_create
from serviceloop.catalogue.tests.factories import make_offering, make_value_item
from serviceloop.core import clock
from serviceloop.desk.models import MailRoute
from serviceloop.experience.xlas import xla_create
from serviceloop.feedback.models import Post, Response
from serviceloop.feedback.services.surveys import survey_create
from serviceloop.feedback.tests.factories_channels import make_service, ndjson, run_command, sign
from serviceloop.incidents.maintenance import maintenance_schedule
from serviceloop.incidents.services import incident_declare, recovery_step_add
from serviceloop.incidents.tests.factories_review import make_action, make_incident, make_review
from serviceloop.relationships.models import Relationship
from serviceloop.relationships.services import person_create, relationship_create

ONE = "/api/feedback/ingest"
BATCH = "/api/feedback/ingest/batch"
WEBHOOK = "/api/feedback/posts/webhook"
SECRET = "a-webhook-secret-of-some-length"
DATE_RANGE = "must be between 1970-01-01 and 2099-12-31"
OUT_OF_RANGE = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "1969-12-31T23:59:59Z",
    "2100-01-01T00:00:00Z",
]


@pytest.fixture
def service(sam: User) -> Service:
    return make_service("Cloud Desktop", manager=sam)


def _line(external_id: str, **fields: Any) -> dict[str, Any]:
    return {"source": "kiosk", "external_id": external_id, "service": "cloud-desktop", "happiness": 8, **fields}


def _post_json(client: Client, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _fields(response: Any) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


# -- dates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("responded_at", OUT_OF_RANGE)
def test_an_out_of_range_responded_at_is_refused_naming_the_field(
    alex: User, service: Service, responded_at: str
) -> None:
    response = _post_json(api_client_for(alex), ONE, _line("d1", responded_at=responded_at))
    assert response.status_code == 422, response.content
    assert _fields(response) == ["responded_at"]
    assert DATE_RANGE in response.json()["message"]
    assert not Response.objects.exists()


def test_one_out_of_range_line_is_reported_and_the_other_lines_of_the_batch_are_stored(
    alex: User, service: Service
) -> None:
    lines = [_line(f"b{n}", responded_at="2026-11-25T09:30:00Z") for n in range(1, 1001)]
    lines[499] = _line("b500", responded_at="0001-01-01T00:00:00+14:00")
    response = api_client_for(alex).post(BATCH, data=ndjson(lines), content_type="application/x-ndjson")
    assert response.status_code == 200, response.content
    report = response.json()
    assert (report["received"], report["created"], report["rejected"]) == (1000, 999, 1)
    assert report["errors"] == [{"line": 500, "reason": f"responded_at: {DATE_RANGE}"}]
    assert Response.objects.count() == 999
    assert not Response.objects.filter(external_id="b500").exists()


@pytest.mark.parametrize(
    "url",
    [
        "/api/core/events?since=0001-01-01",
        "/api/core/events?until=9999-12-31",
        "/api/feedback/responses?since=0001-01-01",
        "/api/feedback/responses?until=9999-12-31",
        "/api/desk/sla-events?since=0001-01-01T00:00:00%2B14:00",
    ],
)
def test_an_out_of_range_date_filter_is_refused_naming_the_parameter(ada: User, url: str) -> None:
    response = api_client_for(ada).get(url)
    assert response.status_code == 422, response.content
    assert _fields(response) == [re.search(r"\?(\w+)=", url).group(1)]  # type: ignore[union-attr]


def test_an_out_of_range_date_on_the_event_log_page_is_shown_next_to_the_field(ada: User) -> None:
    client = Client()
    client.force_login(ada)
    response = client.get(reverse("core:event_log"), {"since": "0001-01-01", "until": "9999-12-31"})
    assert response.status_code < 500
    form = response.context["form"]
    assert "between 01 Jan 1970 and 31 Dec 2099" in str(form.errors["since"])
    assert "until" in form.errors


# -- scores ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["csat", "happiness", "nps", "ces"])
@pytest.mark.parametrize("value", [True, False, "4"])
def test_a_score_must_be_a_json_number(alex: User, service: Service, field: str, value: Any) -> None:
    line = _line("s1", **{"happiness": None, "comment": "fine", field: value})
    response = _post_json(api_client_for(alex), ONE, line)
    assert response.status_code == 422, response.content
    assert _fields(response) == [field]
    assert not Response.objects.exists()


def test_a_score_of_four_point_zero_is_read_as_four_and_four_and_a_half_is_refused(
    alex: User, service: Service
) -> None:
    client = api_client_for(alex)
    assert _post_json(client, ONE, _line("s1", happiness=None, csat=4.0)).status_code == 201
    assert Response.objects.get(external_id="s1").csat == 4
    refused = _post_json(client, ONE, _line("s2", happiness=None, csat=4.5))
    assert refused.status_code == 422 and _fields(refused) == ["csat"]


def test_a_bool_score_in_a_batch_is_that_lines_error(alex: User, service: Service) -> None:
    body = ndjson([_line("b1"), _line("b2", happiness=None, csat=True)])
    report = api_client_for(alex).post(BATCH, data=body, content_type="application/x-ndjson").json()
    assert (report["created"], report["rejected"]) == (1, 1)
    assert report["errors"][0]["line"] == 2 and report["errors"][0]["reason"].startswith("csat:")


def test_a_bool_as_a_count_is_refused_on_the_throttle_rules(sam: User, service: Service) -> None:
    body = {"transactional_short_limit": True}
    response = api_client_for(sam).put(
        f"/api/feedback/services/{service.public_id}/throttle", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 422 and _fields(response) == ["transactional_short_limit"]


# -- NUL, lone surrogates and bytes that are not UTF-8 --------------------------------------------


@pytest.mark.parametrize("text", ["a\u0000b", "a\ud800b"])
def test_a_string_that_cannot_be_stored_is_refused_naming_the_field(alex: User, service: Service, text: str) -> None:
    # json.dumps writes both as \u escapes, which is how a client sends them.
    response = _post_json(api_client_for(alex), ONE, _line("n1", comment=text))
    assert response.status_code == 422, response.content
    assert _fields(response) == ["comment"]
    assert not Response.objects.exists()


def test_a_nul_inside_a_nested_field_names_its_path(sam: User, service: Service) -> None:
    body = {"name": "After a ticket", "service": service.public_id, "questions": [{"kind": "csat", "text": "x\u0000"}]}
    response = _post_json(api_client_for(sam), "/api/feedback/surveys", body)
    assert response.status_code == 422, response.content
    assert _fields(response) == ["questions.0.text"]


def test_one_line_holding_nul_is_that_lines_error_and_the_rest_of_the_batch_is_stored(
    alex: User, service: Service
) -> None:
    body = ndjson([_line("n1"), _line("n2", comment="nul \u0000 here"), _line("n3", source="kio\u0000sk"), _line("n4")])
    response = api_client_for(alex).post(BATCH, data=body, content_type="application/x-ndjson")
    assert response.status_code == 200, response.content
    report = response.json()
    assert (report["created"], report["rejected"]) == (2, 2)
    assert [(e["line"], e["reason"].split(":")[0]) for e in report["errors"]] == [(2, "comment"), (3, "source")]
    assert sorted(Response.objects.values_list("external_id", flat=True)) == ["n1", "n4"]


def test_a_batch_line_that_is_not_utf8_is_that_lines_error(alex: User, service: Service) -> None:
    body = (
        ndjson([_line("u1")])
        + b'{"source": "kiosk", "external_id": "u2", "comment": "caf\xe9"}\n'
        + ndjson([_line("u3")])
    )
    report = api_client_for(alex).post(BATCH, data=body, content_type="application/x-ndjson").json()
    assert (report["created"], report["rejected"]) == (2, 1)
    assert report["errors"][0]["line"] == 2 and "not UTF-8" in report["errors"][0]["reason"]


def test_a_json_body_that_is_not_utf8_answers_400_saying_so(sam: User) -> None:
    body = b'{"name": "caf\xe9", "service_manager": "x"}'
    response = api_client_for(sam).post("/api/catalogue/services", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_encoding" and "UTF-8" in response.json()["message"]
    assert not Service.objects.exists()


def test_an_out_of_range_token_expiry_is_refused_naming_the_field(ada: User) -> None:
    client = Client()
    client.force_login(ada)
    response = _post_json(client, "/api/accounts/tokens", {"name": "ci", "expires_at": "0001-01-01T00:00:00+14:00"})
    assert response.status_code == 422, response.content
    assert _fields(response) == ["expires_at"]


@pytest.mark.parametrize("url", ["/api/catalogue/services?q=a%00b", "/api/relationships/people?q=%00"])
def test_a_nul_in_a_query_parameter_is_refused_naming_it(sam: User, url: str) -> None:
    response = api_client_for(sam).get(url)
    assert response.status_code == 422 and _fields(response) == ["q"]


def test_a_nul_in_a_page_form_or_path_is_a_4xx(sam: User, org_a: Organisation) -> None:
    client = Client()
    client.force_login(sam)
    assert client.get(reverse("relationships:organisation_list"), {"q": "a\x00b"}).status_code == 400
    url = reverse("relationships:relationship_create", args=[org_a.public_id])
    assert client.post(url, {"offering": "\x00", "started_on": "2026-01-01"}).status_code == 400
    assert client.get("/relationships/organisations/ab%00cd/").status_code == 404
    assert not Relationship.objects.exists()


# -- the post webhook --------------------------------------------------------------------------------


def _webhook(body: bytes, settings: Any) -> Any:
    settings.SERVICELOOP_POST_WEBHOOK_SECRET = SECRET
    return Client().post(
        WEBHOOK, data=body, content_type="application/json", headers={"X-Serviceloop-Signature": sign(body, SECRET)}
    )


def _post(external_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "source": "mastodon",
        "external_id": external_id,
        "text": "Hello",
        "posted_at": "2026-11-25T09:30:00Z",
        **fields,
    }


def test_a_signed_webhook_reports_each_bad_post_and_stores_the_good_ones(db: Any, settings: Any) -> None:
    posts = [
        _post("p1"),
        _post("p2", posted_at="0001-01-01T00:00:00+14:00"),
        _post("p3", text="nul \u0000"),
        _post("p4", posted_at="9999-12-31T23:59:59-14:00"),
        _post("p5"),
    ]
    response = _webhook(json.dumps({"posts": posts}).encode(), settings)
    assert response.status_code == 200, response.content
    report = response.json()
    assert (report["received"], report["created"], report["rejected"]) == (5, 2, 3)
    assert [(e["line"], e["reason"].split(":")[0]) for e in report["errors"]] == [
        (2, "posted_at"),
        (3, "text"),
        (4, "posted_at"),
    ]
    assert sorted(Post.objects.values_list("external_id", flat=True)) == ["p1", "p5"]


def test_a_signed_webhook_body_that_is_not_utf8_is_refused(db: Any, settings: Any) -> None:
    response = _webhook(b'{"source": "mastodon", "external_id": "p1", "text": "caf\xe9"}', settings)
    assert response.status_code == 422 and response.json()["code"] == "invalid_encoding"
    assert not Post.objects.exists()


def test_a_csv_of_posts_with_a_line_that_is_not_utf8_stores_the_other_lines(
    db: Any, tmp_path: Any, capsys: Any
) -> None:
    path = tmp_path / "posts.csv"
    path.write_bytes(
        b"source,external_id,text,posted_at\n"
        b"x,1,Fine,2026-11-25T09:30:00Z\n"
        b"x,2,caf\xe9,2026-11-25T09:30:00Z\n"
        b"x,3,Fine too,0001-01-01T00:00:00+14:00\n"
        b"x,4,Also fine,2026-11-25T09:30:00Z\n"
    )
    assert run_command("import", "posts", str(path)) == 1
    errors = capsys.readouterr().err
    assert "line 3: text: must be UTF-8 text (it holds a lone surrogate" in errors
    assert f"line 4: posted_at: {DATE_RANGE}" in errors
    assert sorted(Post.objects.values_list("external_id", flat=True)) == ["1", "4"]


def test_the_sentiment_command_refuses_a_file_that_is_not_utf8_instead_of_writing_nothing(
    db: Any, tmp_path: Any, capsys: Any
) -> None:
    path = tmp_path / "texts.txt"
    path.write_bytes(b"Great service\ncaf\xe9 terrible\n")
    assert run_command("sentiment", str(path)) == 2
    assert "not UTF-8 text" in capsys.readouterr().err


# -- chunked bodies ------------------------------------------------------------------------------------


def _through_gunicorn(raw: bytes) -> tuple[int, bytes]:
    """Parse raw HTTP bytes with gunicorn's own parser, as a gunicorn worker does, and serve the
    WSGI environ it builds with the Django application (in this process, on the test database)."""
    from gunicorn.config import Config
    from gunicorn.http.parser import RequestParser
    from gunicorn.http.wsgi import create

    config = Config()
    request = next(RequestParser(config, iter([raw]), ("127.0.0.1", 40000)))
    _, environ = create(request, None, ("127.0.0.1", 40000), ("testserver", "80"), config)
    assert "CONTENT_LENGTH" not in environ  # what the application gets for a chunked body
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        answer["status"] = int(status.split()[0])
        return lambda data: None

    # As Django's test client does: the handler would close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = WSGIHandler()(environ, start_response)
        body = b"".join(response)
        response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], body


def _chunked(body: bytes, size: int = 100) -> bytes:
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"


def _chunked_request(path: str, body: bytes, token: str, content_type: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: testserver\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    return head.encode() + _chunked(body)


def _token(user: User) -> str:
    from serviceloop.accounts.services import api_token_create

    return api_token_create(user=user, name="chunked").secret


def test_a_chunked_batch_is_read_whole(alex: User, service: Service) -> None:
    body = ndjson([_line(f"c{n}") for n in range(1, 31)])
    status, answer = _through_gunicorn(_chunked_request(BATCH, body, _token(alex), "application/x-ndjson"))
    assert status == 200, answer
    report = json.loads(answer)
    assert (report["received"], report["created"]) == (30, 30)
    assert Response.objects.count() == 30


def test_a_chunked_json_body_is_read_whole(alex: User, service: Service) -> None:
    body = json.dumps(_line("c1", comment="sent in chunks " * 20)).encode()
    status, answer = _through_gunicorn(_chunked_request(ONE, body, _token(alex), "application/json"))
    assert status == 201, answer
    assert Response.objects.get(external_id="c1").comment.startswith("sent in chunks")


def test_a_chunked_body_past_the_body_limit_answers_413_and_stores_nothing(
    alex: User, service: Service, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    settings.SERVICELOOP_MAIL_MAX_BYTES = 2_000
    body = ndjson([_line(f"c{n}") for n in range(1, 101)])
    status, answer = _through_gunicorn(_chunked_request(BATCH, body, _token(alex), "application/x-ndjson"))
    assert status == 413, answer
    assert json.loads(answer)["code"] == "too_large"
    assert not Response.objects.exists()


# -- PATCH with nulls and empty strings ------------------------------------------------------------------

# Fields where null means "clear it" (typed `X | None` in their schema): null is accepted there.
NULL_CLEARS = {
    ("/api/catalogue/value-items/{public_id}", "estimate"),
    ("/api/relationships/people/{public_id}", "user"),
    ("/api/relationships/organisations/{public_id}", "hourly_cost"),  # null: back to the provider default
    ("/api/desk/mail/routes/{public_id}", "offering"),
    ("/api/desk/mail/routes/{public_id}", "sender_organisation"),
    ("/api/incidents/incidents/{public_id}", "owner"),
    ("/api/incidents/incidents/{public_id}", "comms_lead"),
    ("/api/incidents/incidents/{public_id}/plans/{audience}", "owner"),
    ("/api/incidents/incidents/{public_id}/plans/{audience}", "calendar"),
    ("/api/incidents/steps/{public_id}", "owner"),
    ("/api/incidents/steps/{public_id}", "eta"),
    ("/api/incidents/reviews/{public_id}", "owner"),  # null: nobody owns the review
    ("/api/incidents/actions/{public_id}", "owner"),
}


def _patch_routes() -> dict[str, list[str]]:
    from serviceloop.api import api

    document = api.get_openapi_schema()
    routes: dict[str, list[str]] = {}
    for path, operations in document["paths"].items():
        if "patch" not in operations:
            continue
        schema = operations["patch"]["requestBody"]["content"]["application/json"]["schema"]
        name = schema["$ref"].rsplit("/", 1)[-1]
        routes[path] = list(document["components"]["schemas"][name]["properties"])
    return routes


def _patch_targets(sam: User, org_a: Organisation) -> dict[str, str]:
    offering = make_offering(sam)
    component = component_create(offering=offering, by=sam, kind="access", name="Mailbox access")
    item = make_value_item(sam, offering, estimate=5)
    person = person_create(by=sam, organisation=org_a, email="pat@acme.example")
    relationship = relationship_create(by=sam, organisation=org_a, offering=offering, started_on=date(2025, 1, 1))
    survey = survey_create(service=offering.service, name="After a ticket", by=sam)
    route = MailRoute.objects.create(service=offering.service, address="route@desk.example")
    xla = xla_create(by=sam, name="Mail happiness", service=offering.service, metric="happiness", target=0)
    incident = incident_declare(by=sam, title="Mail down", severity="sev1", services={offering.service: "major_outage"})
    step = recovery_step_add(incident=incident, by=sam, title="Fail over")
    tomorrow = clock.now() + timedelta(days=1)
    maintenance = maintenance_schedule(
        by=sam,
        title="Mail server upgrade",
        services=[offering.service],
        scheduled_for=tomorrow,
        scheduled_until=tomorrow + timedelta(hours=1),
    )
    reviewed = make_incident(declared_at=clock.now(), status="resolved", resolved_at=clock.now())
    review = make_review(reviewed, due_at=clock.now() + timedelta(days=3), owner=sam)
    action = make_action(review, due_on=date(2026, 12, 20), owner=sam)
    return {
        "/api/catalogue/services/{public_id}": offering.service.public_id,
        "/api/catalogue/offerings/{public_id}": offering.public_id,
        "/api/catalogue/components/{public_id}": component.public_id,
        "/api/catalogue/value-items/{public_id}": item.public_id,
        "/api/relationships/organisations/{public_id}": org_a.public_id,
        "/api/relationships/people/{public_id}": person.public_id,
        "/api/relationships/relationships/{public_id}": relationship.public_id,
        "/api/feedback/surveys/{public_id}": survey.public_id,
        "/api/desk/mail/routes/{public_id}": route.public_id,
        "/api/experience/xlas/{public_id}": xla.public_id,
        "/api/incidents/incidents/{public_id}": incident.public_id,
        # The plan of the audience "internal" (see the URL below).
        "/api/incidents/incidents/{public_id}/plans/{audience}": incident.public_id,
        "/api/incidents/steps/{public_id}": step.public_id,
        "/api/incidents/maintenance/{public_id}": maintenance.public_id,
        "/api/incidents/reviews/{public_id}": review.public_id,
        "/api/incidents/actions/{public_id}": action.public_id,
    }


def _read(client: Client, url: str) -> dict[str, Any]:
    """The row as its GET shows it; components and value items are read through their offering."""
    response = client.get(url)
    return response.json() if response.status_code == 200 else {}


def test_every_patch_route_answers_nulls_and_empty_strings_with_a_4xx_naming_the_field(
    sam: User, org_a: Organisation
) -> None:
    routes = _patch_routes()
    targets = _patch_targets(sam, org_a)
    assert set(routes) <= set(targets), f"give the test an object for {sorted(set(routes) - set(targets))}"
    client = api_client_for(sam)
    answers: list[tuple[str, str, Any, int]] = []
    for path, fields in routes.items():
        url = path.replace("{public_id}", targets[path]).replace("{audience}", "internal")
        before = _read(client, url)
        # Each field alone, so that each answer names that field.
        for field in fields:
            for value in (None, "", "\u0000", True, [], {}):
                response = client.patch(url, data=json.dumps({field: value}), content_type="application/json")
                answers.append((path, field, value, response.status_code))
                assert response.status_code < 500, (path, field, value, response.content)
                if value is None and (path, field) in NULL_CLEARS:
                    continue
                if response.status_code >= 400:
                    body = response.json()
                    assert field in (body.get("field"), *_fields(response)) or field in body["message"], body
                elif value is None:
                    pytest.fail(f"{path} accepted null for {field}")
        # All fields null at once: one answer naming every field that cannot be null.
        everything = client.patch(url, data=json.dumps(dict.fromkeys(fields)), content_type="application/json")
        assert everything.status_code == 422, (path, everything.content)
        assert set(_fields(everything)) == {f for f in fields if (path, f) not in NULL_CLEARS}
        # Nothing a refused request sent was stored: the fields that cannot be empty kept their value.
        after = _read(client, url)
        for key in ("name", "slug", "lifecycle", "criticality", "email", "time_zone", "kind", "is_active"):
            assert after.get(key) == before.get(key), (path, key)
    print(f"\n{len(answers)} PATCH requests on {len(routes)} routes, none answered 5xx")


def test_the_reported_service_patch_answers_422_and_changes_nothing(sam: User) -> None:
    offering = make_offering(sam)
    url = f"/api/catalogue/services/{offering.service.public_id}"
    response = api_client_for(sam).patch(
        url, data=json.dumps({"lifecycle": None, "service_manager": ""}), content_type="application/json"
    )
    assert response.status_code == 422, response.content
    assert set(_fields(response)) == {"lifecycle", "service_manager"}
    service = Service.objects.get()
    assert (service.lifecycle, service.service_manager) == ("live", sam)


# -- the value-item form and a relationship's end date ---------------------------------------------------


@pytest.mark.parametrize("estimate", ["-1e999", "1e999", "Infinity", "-inf", "NaN"])
def test_the_value_item_form_refuses_a_number_it_cannot_store(sam: User, estimate: str) -> None:
    offering = make_offering(sam)
    client = Client()
    client.force_login(sam)
    url = reverse("catalogue:value_item_create", args=[offering.public_id])
    response = client.post(url, {"kind": "outcome", "description": "Time saved", "estimate": estimate})
    assert response.status_code in (200, 422)
    assert "estimate" in response.context["form"].errors
    assert not ValueItem.objects.exists()


def test_the_value_item_estimate_box_is_text_so_the_browser_sends_what_was_typed(sam: User) -> None:
    # A browser empties an <input type=number> it cannot read, and "-1e999" was stored as no estimate.
    offering = make_offering(sam)
    client = Client()
    client.force_login(sam)
    page = client.get(reverse("catalogue:value_item_create", args=[offering.public_id])).content.decode()
    box = re.search(r'<input[^>]*name="estimate"[^>]*>', page)
    assert box is not None and 'type="text"' in box.group(0) and 'inputmode="decimal"' in box.group(0)


@pytest.mark.parametrize("estimate", [-1e999, "-1e999", "NaN", "Infinity"])
def test_the_value_item_api_refuses_infinities_and_nan(sam: User, estimate: Any) -> None:
    offering = make_offering(sam)
    body = json.dumps({"kind": "outcome", "description": "Time saved", "estimate": estimate})
    response = api_client_for(sam).post(
        f"/api/catalogue/offerings/{offering.public_id}/value-items", data=body, content_type="application/json"
    )
    assert response.status_code in (400, 422), response.content
    assert not ValueItem.objects.exists()


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_literals_are_not_json(sam: User, literal: bytes) -> None:
    offering = make_offering(sam)
    body = b'{"kind": "outcome", "description": "Time saved", "estimate": ' + literal + b"}"
    response = api_client_for(sam).post(
        f"/api/catalogue/offerings/{offering.public_id}/value-items", data=body, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_json" and literal.decode() in response.json()["message"]
    assert not ValueItem.objects.exists()


def _relationship(sam: User, org_a: Organisation) -> Relationship:
    return relationship_create(by=sam, organisation=org_a, offering=make_offering(sam), started_on=date(2025, 1, 1))


@pytest.mark.parametrize(
    ("on", "field"),
    [("2100-01-01", "on"), ("0001-01-01", "on")],
)
def test_an_end_date_out_of_range_is_refused_by_the_api(sam: User, org_a: Organisation, on: str, field: str) -> None:
    relationship = _relationship(sam, org_a)
    body = {"status": "ended", "on": on}
    response = _post_json(
        api_client_for(sam), f"/api/relationships/relationships/{relationship.public_id}/status", body
    )
    assert response.status_code == 422 and _fields(response) == [field]
    relationship.refresh_from_db()
    assert (relationship.status, relationship.ended_on) == ("active", None)


def test_an_end_date_more_than_a_year_ahead_is_refused_like_a_start_date(sam: User, org_a: Organisation) -> None:
    relationship = _relationship(sam, org_a)
    on = clock.now().date() + timedelta(days=800)
    response = _post_json(
        api_client_for(sam),
        f"/api/relationships/relationships/{relationship.public_id}/status",
        {"status": "ended", "on": on.isoformat()},
    )
    assert response.status_code == 422, response.content
    assert response.json()["field"] == "on" and "a year from today" in response.json()["message"]
    relationship.refresh_from_db()
    assert relationship.ended_on is None


def test_an_end_date_out_of_range_is_shown_next_to_the_field_on_the_page(sam: User, org_a: Organisation) -> None:
    relationship = _relationship(sam, org_a)
    client = Client()
    client.force_login(sam)
    url = reverse("relationships:relationship_status", args=[relationship.public_id])
    response = client.post(url, {"status": "ended", "on": "9999-12-31"})
    assert response.status_code == 302
    relationship.refresh_from_db()
    assert relationship.ended_on is None
    page = client.get(response["Location"]).content.decode()
    assert "on: Give a date between 01 Jan 1970 and 31 Dec 2099." in page
