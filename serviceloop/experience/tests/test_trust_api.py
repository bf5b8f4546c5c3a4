"""The trust API on stored rows: the list (filters, orders, pagination, CSV), one relationship with its
points, contributions, sentences and majors, its evidence; tenancy (another organisation's customer
404, an unshared organisation's own customer 404, staff everything); the portal toggle; 4xx with a
message for bad input, never a 500; and the OpenAPI document naming every field the answers carry."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import api_client_for, make_organisation
from serviceloop.catalogue.models import Service
from serviceloop.desk.tests.factories import make_service
from serviceloop.experience.tests.trust_page_rows import evidence, major, share, state_of, weeks
from serviceloop.experience.trust_models import TrustParameterSet, TrustSharing, TrustState
from serviceloop.incidents.models import Incident
from serviceloop.incidents.tests.factories_review import make_incident

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
URL = "/api/experience/trust"


@pytest.fixture
def incident(travel: Any) -> Incident:
    travel.to(NOW)
    return make_incident(
        declared_at=datetime(2026, 11, 16, 9, 0, tzinfo=UTC),
        status="resolved",
        resolved_at=datetime(2026, 11, 17, 9, 0, tzinfo=UTC),
    )


@pytest.fixture
def acme(org_a: Organisation, service: Service, incident: Incident) -> TrustState:
    weeks(org_a, service, date(2024, 11, 1), 109)
    major(org_a, service, incident, date(2026, 11, 16), resolved=date(2026, 11, 17))
    return state_of(org_a, service, TODAY)


@pytest.fixture
def borealis(org_b: Organisation, service: Service, travel: Any) -> TrustState:
    travel.to(NOW)
    weeks(org_b, service, date(2026, 6, 1), 26, share=0.5)
    for day in range(12):
        evidence(org_b, service, date(2026, 11, 10) + timedelta(days=day), "small_failure")
    return state_of(org_b, service, TODAY)


def pair(state: TrustState) -> str:
    return f"{URL}/states/{state.organisation.public_id}/{state.service.public_id}"


def put(client: Any, path: str, body: Any) -> Any:
    return client.put(path, data=json.dumps(body), content_type="application/json")


def post(client: Any, path: str, body: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def test_staff_list_every_state_lowest_first_or_falling_fastest(
    acme: TrustState, borealis: TrustState, alex: User, service: Service
) -> None:
    client = api_client_for(alex)
    answer = client.get(f"{URL}/states")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["count"] == 2
    assert [row["organisation"]["name"] for row in body["items"]] == ["Borealis Health", "Acme Logistics"]
    first = body["items"][1]
    assert (first["trust"], first["band"], first["change"], first["trust_before"]) == (70.6, "good", -12.1, 82.7)
    assert first["service"] == {"public_id": service.public_id, "name": service.name}
    assert (first["evidence_count"], first["first_day"], first["parameters_version"]) == (111, "2024-11-03", 1)
    assert [r["band"] for r in client.get(f"{URL}/states", {"band": "red"}).json()["items"]] == ["red"]
    assert client.get(f"{URL}/states", {"q": "acme"}).json()["count"] == 1
    named = client.get(f"{URL}/states", {"organisation": acme.organisation.public_id}).json()
    assert [r["organisation"]["public_id"] for r in named["items"]] == [acme.organisation.public_id]
    other = make_service("Ride booking")
    assert client.get(f"{URL}/states", {"service": other.public_id}).json()["count"] == 0
    # Pages: limit and offset, like the other experience lists.
    paged = client.get(f"{URL}/states", {"limit": 1, "offset": 1}).json()
    assert paged["count"] == 2 and [r["organisation"]["name"] for r in paged["items"]] == ["Acme Logistics"]
    steady = make_organisation("Steady Co", domain="steady.example")
    weeks(steady, service, date(2026, 1, 1), 48)
    state_of(steady, service, TODAY)
    falling = client.get(f"{URL}/states", {"order": "change"}).json()["items"]
    assert [r["organisation"]["name"] for r in falling] == ["Borealis Health", "Acme Logistics", "Steady Co"]


def test_one_relationship_with_its_points_contributions_sentences_and_majors(
    acme: TrustState, incident: Incident, alex: User
) -> None:
    answer = api_client_for(alex).get(pair(acme))
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["trust"], body["band"], body["confidence"], body["as_of"]) == (70.6, "good", 0.71, "2026-12-02")
    assert body["points"][-1] == {"day": "2026-12-02", "trust": 70.6, "confidence": 0.71, "parameters_version": 1}
    assert len(body["points"]) == 105 and body["points"][0]["day"] < body["points"][1]["day"]
    groups = {c["group"]: c for c in body["contributions"]}
    key = str(incident.pk)
    assert groups[f"major:{key}"]["effect"] == -17.5
    assert (groups[f"credit:{key}"]["effect"], groups[f"credit:{key}"]["pending"]) == (5.2, 2.6)
    assert body["explanations"][1]["text"] == (
        f"Major incident {incident.reference}: −17.5; recovery credit earned +5.2, pending +2.6 until review actions close"
    )
    [shown] = body["majors"]
    assert shown["incident"] == {"public_id": incident.public_id, "reference": incident.reference}
    assert (shown["at"], shown["resolved_at"], shown["rho"], shown["poor_communication"]) == (
        "2026-11-16",
        "2026-11-17",
        0.5,
        False,
    )
    assert (shown["effect"], shown["credit_earned"], shown["credit_pending"]) == (-17.5, 5.2, 2.6)


def test_the_evidence_log_pages_newest_first_and_filters_by_kind(
    acme: TrustState, incident: Incident, alex: User
) -> None:
    client = api_client_for(alex)
    log = client.get(f"{pair(acme)}/evidence", {"limit": 2}).json()
    assert log["count"] == 111
    assert [(row["day"], row["kind"]) for row in log["items"]] == [
        ("2026-11-29", "week_met"),
        ("2026-11-22", "week_met"),
    ]
    majors = client.get(f"{pair(acme)}/evidence", {"kind": "major_resolved"}).json()["items"]
    assert [(row["kind"], row["communication"], row["plan"]) for row in majors] == [("major_resolved", 1.0, 1.0)]
    assert majors[0]["incident"] == {"public_id": incident.public_id, "reference": incident.reference}
    refused = client.get(f"{pair(acme)}/evidence", {"kind": "gossip"})
    assert refused.status_code == 422 and "kind" in refused.json()["message"]


def test_weightless_evidence_is_listed_only_by_its_kind(acme: TrustState, alex: User) -> None:
    # The volume rule's counts (an opened ticket, a neutral answer) would drown a busy log.
    evidence(acme.organisation, acme.service, date(2026, 11, 30), "ticket_opened", label="SL-1 opened")
    evidence(acme.organisation, acme.service, date(2026, 11, 30), "neutral_answer", label="neutral answer")
    client = api_client_for(alex)
    assert client.get(f"{pair(acme)}/evidence").json()["count"] == 111
    tickets = client.get(f"{pair(acme)}/evidence", {"kind": "ticket_opened"}).json()
    assert tickets["count"] == 1 and tickets["items"][0]["label"] == "SL-1 opened"
    assert client.get(f"{pair(acme)}/evidence", {"kind": "neutral_answer"}).json()["count"] == 1


def test_the_csv_has_the_lists_rows_and_no_formula(acme: TrustState, alex: User, service: Service, travel: Any) -> None:
    sneaky = make_organisation("=HYPERLINK(1)", domain="sneaky.example")
    weeks(sneaky, service, date(2026, 10, 1), 8)
    state_of(sneaky, service, TODAY)
    answer = api_client_for(alex).get(f"{URL}/states.csv", {"order": "trust"})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode())))
    assert rows[0][:5] == ["organisation", "organisation_id", "service", "service_id", "trust"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["Acme Logistics"][4:8] == ["70.6", "0.71", "good", "-12.1"]
    assert "'=HYPERLINK(1)" in by_name
    assert api_client_for(alex).get(f"{URL}/states.csv", {"band": "purple"}).status_code == 422


def test_tenancy_other_organisation_404_unshared_own_404_staff_all(
    acme: TrustState, borealis: TrustState, carol: User, bob: User, sam: User
) -> None:
    carols = api_client_for(carol)
    # Not shown to Acme: Carol's own organisation's trust is as if it did not exist.
    assert carols.get(pair(acme)).status_code == 404
    assert carols.get(f"{pair(acme)}/evidence").status_code == 404
    assert carols.get(f"{URL}/states").json()["count"] == 0
    assert carols.get(f"{URL}/states", {"organisation": acme.organisation.public_id}).status_code == 404
    assert carols.get(f"{URL}/states.csv").content.decode().count("\n") == 1  # the header only
    share(acme.organisation)
    assert carols.get(pair(acme)).status_code == 200
    listed = carols.get(f"{URL}/states").json()
    assert [r["organisation"]["name"] for r in listed["items"]] == ["Acme Logistics"]
    # Another organisation's: 404, shown to its own customers or not; naming it in the filter too.
    share(borealis.organisation)
    assert carols.get(pair(borealis)).status_code == 404
    assert carols.get(f"{pair(borealis)}/evidence").status_code == 404
    assert carols.get(f"{URL}/states", {"organisation": borealis.organisation.public_id}).status_code == 404
    assert api_client_for(bob).get(pair(acme)).status_code == 404
    # Staff: every state; customers do not simulate, read parameters or toggle the portal.
    assert api_client_for(sam).get(f"{URL}/states").json()["count"] == 2
    assert carols.get(f"{URL}/parameters").status_code == 403
    assert post(carols, f"{URL}/simulate", {"at": ["2026-01-01"]}).status_code == 403
    assert put(carols, f"{URL}/sharing/{acme.organisation.public_id}", {"shown_in_portal": False}).status_code == 403


def test_staff_show_an_organisation_its_own_trust_in_the_portal(
    acme: TrustState, carol: User, alex: User, org_a: Organisation
) -> None:
    client = api_client_for(alex)
    answer = put(client, f"{URL}/sharing/{org_a.public_id}", {"shown_in_portal": True})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["organisation"]["public_id"] == org_a.public_id and body["shown_in_portal"] is True
    assert body["changed_by"]["email"] == alex.email
    assert api_client_for(carol).get(pair(acme)).status_code == 200
    assert (
        put(client, f"{URL}/sharing/{org_a.public_id}", {"shown_in_portal": False}).json()["shown_in_portal"] is False
    )
    assert api_client_for(carol).get(pair(acme)).status_code == 404
    assert TrustSharing.objects.get(organisation=org_a).shown_in_portal is False
    assert put(client, f"{URL}/sharing/nope", {"shown_in_portal": True}).status_code == 404
    for bad in ({}, {"shown_in_portal": "perhaps"}, {"shown_in_portal": None}):
        refused = put(client, f"{URL}/sharing/{org_a.public_id}", bad)
        assert refused.status_code == 422 and "shown_in_portal" in refused.json()["message"], refused.content


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"service": "nope"}, "service", "no service with the id nope"),
        ({"organisation": "nope"}, "organisation", "no organisation with the id nope"),
        ({"band": "purple"}, "band", "band"),
        ({"order": "sideways"}, "order", "order"),
        ({"limit": 100000}, "limit", "limit"),
        ({"q": "a\x00b"}, "q", "NUL"),
        ({"service": "x" * 25}, "service", "service"),
    ],
)
def test_bad_filters_answer_422_naming_the_parameter(
    acme: TrustState, alex: User, query: dict[str, Any], field: str, words: str
) -> None:
    answer = api_client_for(alex).get(f"{URL}/states", query)
    assert answer.status_code == 422, answer.content
    shown = answer.json()
    fields = {shown.get("field"), *(error["field"] for error in shown.get("errors", []))}
    assert any(name and field in name for name in fields), shown
    assert words in shown["message"], shown


def test_a_missing_pair_answers_404(acme: TrustState, alex: User, org_b: Organisation, service: Service) -> None:
    client = api_client_for(alex)
    assert client.get(f"{URL}/states/{org_b.public_id}/{service.public_id}").status_code == 404
    assert client.get(f"{URL}/states/nope/nope/evidence").status_code == 404


# -- the model --------------------------------------------------------------------------------------


MATURE = {
    "events": [
        *({"at": (date(2024, 1, 7) + timedelta(weeks=n)).isoformat(), "kind": "week_met"} for n in range(104)),
        {"at": "2026-01-05", "kind": "major_incident", "id": "MI-12", "severity": 1},
    ],
    "at": ["2026-01-04", "2026-01-05"],
}


def test_simulate_replays_evidence_without_touching_the_database(alex: User) -> None:
    answer = post(api_client_for(alex), f"{URL}/simulate", MATURE)
    assert answer.status_code == 200, answer.content
    points = answer.json()["points"]
    assert [p["at"] for p in points] == ["2026-01-04", "2026-01-05"]
    before, after = points[0]["trust"], points[1]["trust"]
    assert abs(before - 83) <= 3 and abs(after - 65) <= 3  # DOMAIN §5: ≈83 → ≈65
    assert answer.json()["majors"][0]["id"] == "MI-12" and answer.json()["parameters"]["negativity"] == 3.0
    lighter = post(api_client_for(alex), f"{URL}/simulate", {**MATURE, "parameters": {"major_incident": 4}})
    assert lighter.json()["points"][1]["trust"] > after
    assert not TrustState.objects.exists() and not TrustParameterSet.objects.exists()


@pytest.mark.parametrize(
    ("document", "field", "words"),
    [
        (
            {"events": [{"at": "2026-01-05", "kind": "major_incident", "id": "A"}], "at": ["2026-02-01"]},
            "events.0.severity",
            "events[0] (major_incident).severity: required",
        ),
        (
            {"events": [{"at": "2026-01-05", "kind": "week_met", "severity": 1}], "at": ["2026-02-01"]},
            "events.0.severity",
            "not a field of week_met",
        ),
        (
            {
                "events": [{"at": "2026-01-05", "kind": "major_resolved", "id": "X", "communication": 1, "plan": 1}],
                "at": ["2026-02-01"],
            },
            "events.0.id",
            "no major_incident with id 'X'",
        ),
        (
            {"events": [{"at": "2026-01-05", "kind": "week_met", "share": 2}], "at": ["2026-02-01"]},
            "events.0.share",
            "between 0 and 1",
        ),
        ({"parameters": {"negativity": 500}, "at": ["2026-02-01"]}, "parameters.negativity", "between 0 and 100"),
        ({"parameters": {"joy": 1}, "at": ["2026-02-01"]}, "parameters", "unknown parameter 'joy'"),
        ({"events": [{"at": "2026-01-05", "kind": "gossip"}], "at": ["2026-02-01"]}, "events.0.kind", "kind"),
        ({"events": [{"at": "1900-01-05", "kind": "week_met"}], "at": ["2026-02-01"]}, "events.0.at", "between"),
        ({"events": []}, "at", "at"),
        ({"events": [], "at": []}, "at", "at"),
        ({"events": "many", "at": ["2026-02-01"]}, "events", "events"),
        (
            {"events": [{"at": "2026-01-05", "kind": "week_met", "label": "a\x00"}], "at": ["2026-02-01"]},
            "events.0.label",
            "NUL",
        ),
    ],
)
def test_simulate_refuses_bad_input_with_422_naming_the_event_and_field(
    alex: User, document: dict[str, Any], field: str, words: str
) -> None:
    answer = post(api_client_for(alex), f"{URL}/simulate", document)
    assert answer.status_code == 422, answer.content
    shown = answer.json()
    fields = {shown.get("field"), *(error["field"] for error in shown.get("errors", []))}
    assert field in fields, shown
    assert words in shown["message"], shown


def test_the_parameter_versions_the_one_in_use_first(alex: User, sam: User) -> None:
    client = api_client_for(alex)
    assert client.get(f"{URL}/parameters").json() == {"items": [], "count": 0}
    TrustParameterSet.objects.create(version=1, values={})
    TrustParameterSet.objects.create(version=2, values={"negativity": 2.5}, note="Lighter", adopted_by=sam)
    body = client.get(f"{URL}/parameters").json()
    assert [(v["version"], v["current"]) for v in body["items"]] == [(2, True), (1, False)]
    assert body["items"][0]["values"] == {"negativity": 2.5}
    assert body["items"][0]["effective"]["negativity"] == 2.5 and body["items"][0]["effective"]["prior"] == 15.0
    assert body["items"][0]["adopted_by"]["email"] == sam.email and body["items"][1]["adopted_by"] is None


def test_only_administrators_adopt_parameters_and_bad_ones_are_refused(ada: User, sam: User) -> None:
    body = {"values": {"negativity": 2.5}, "note": "Bad evidence weighs less"}
    assert post(api_client_for(sam), f"{URL}/parameters", body).status_code == 403
    for values, field, words in (
        ({"joy": 1}, "values", "unknown parameter 'joy'"),
        ({"prior": 0}, "values.prior", "must be at least 0.01"),
    ):
        refused = post(api_client_for(ada), f"{URL}/parameters", {**body, "values": values})
        assert refused.status_code == 422 and words in refused.json()["message"], refused.content
        assert refused.json()["field"] == field
    refused = post(api_client_for(ada), f"{URL}/parameters", {"values": {}, "note": ""})
    assert refused.status_code == 422 and "note" in refused.json()["message"]
    assert not TrustParameterSet.objects.exists()


def test_an_administrator_adopts_a_new_version(ada: User, acme: TrustState) -> None:
    TrustParameterSet.objects.create(version=1, values={})
    answer = post(api_client_for(ada), f"{URL}/parameters", {"values": {"negativity": 2.5}, "note": "Lighter"})
    assert answer.status_code == 201, answer.content
    assert (answer.json()["version"], answer.json()["current"], answer.json()["note"]) == (2, True, "Lighter")
    assert answer.json()["adopted_by"]["email"] == ada.email


# -- the document -----------------------------------------------------------------------------------


def _schema(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        return dict(document["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]])
    return node


def _undocumented(document: dict[str, Any], value: Any, node: dict[str, Any], where: str) -> list[str]:
    """Fields of `value` its schema does not name, and schema fields without a description where it matters."""
    node = _schema(document, node)
    for branch in node.get("anyOf", []):
        if branch.get("type") != "null" and value is not None:
            return _undocumented(document, value, branch, where)
    missing = []
    if isinstance(value, dict) and "properties" in node:
        for key, sub in value.items():
            if key not in node["properties"]:
                missing.append(f"{where}.{key}")
            else:
                missing += _undocumented(document, sub, node["properties"][key], f"{where}.{key}")
    elif isinstance(value, list) and "items" in node:
        for item in value[:3]:
            missing += _undocumented(document, item, node["items"], f"{where}[]")
    return missing


def test_the_openapi_document_names_every_field_the_answers_carry(
    acme: TrustState, alex: User, org_a: Organisation
) -> None:
    TrustParameterSet.objects.create(version=1, values={})
    document = Client().get("/api/openapi.json").json()  # apps never import serviceloop.api
    client = api_client_for(alex)
    answers = {
        ("/api/experience/trust/states", "get"): client.get(f"{URL}/states"),
        ("/api/experience/trust/states/{organisation}/{service}", "get"): client.get(pair(acme)),
        ("/api/experience/trust/states/{organisation}/{service}/evidence", "get"): client.get(f"{pair(acme)}/evidence"),
        ("/api/experience/trust/simulate", "post"): post(client, f"{URL}/simulate", MATURE),
        ("/api/experience/trust/parameters", "get"): client.get(f"{URL}/parameters"),
        ("/api/experience/trust/sharing/{organisation}", "put"): put(
            client, f"{URL}/sharing/{org_a.public_id}", {"shown_in_portal": True}
        ),
    }
    for (path, method), answer in answers.items():
        assert answer.status_code == 200, (path, answer.content)
        operation = document["paths"][path][method]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert not _undocumented(document, answer.json(), schema, path), path
        assert operation.get("summary"), path
    detail = document["components"]["schemas"]["TrustStateDetailOut"]["properties"]
    assert {"points", "contributions", "explanations", "majors", "trust", "confidence", "band", "change"} <= set(detail)
    assert "description" in detail["band"] and "description" in detail["change"]
    filters = {p["name"] for p in document["paths"]["/api/experience/trust/states"]["get"]["parameters"]}
    assert {"service", "organisation", "band", "q", "order", "limit", "offset"} <= filters
