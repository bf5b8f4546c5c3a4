"""The desk API as customers and staff use it, with the same rules as the pages."""

from __future__ import annotations

import base64
from typing import Any

from serviceloop.accounts.testing import api_client_for
from serviceloop.desk.models import Message, Ticket
from serviceloop.desk.services import ticket_reply
from serviceloop.desk.tests.factories import make_service, make_ticket


def post(client: Any, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, body, content_type="application/json")


def test_customer_opens_a_ticket_with_an_attachment(carol: Any, carol_person: Any, service: Any) -> None:
    client = api_client_for(carol)
    response = post(
        client,
        "/api/desk/tickets",
        {
            "service": service.public_id,
            "subject": "VPN drops",
            "body": "Every ten minutes.",
            "urgency": "high",
            "attachments": [{"filename": "log.txt", "content_base64": base64.b64encode(b"drop").decode()}],
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["requester"]["public_id"] == carol_person.public_id and data["channel"] == "api"
    assert data["priority"] == "p2"
    ticket = Ticket.objects.get(public_id=data["public_id"])
    assert ticket.attachments.get().filename == "log.txt"


def test_staff_must_name_the_requester(alex: Any, service: Any) -> None:
    response = post(
        api_client_for(alex), "/api/desk/tickets", {"service": service.public_id, "subject": "x", "body": "y"}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "requester"


def test_bad_base64_attachment_is_refused_with_a_message(carol: Any, carol_person: Any, service: Any) -> None:
    response = post(
        api_client_for(carol),
        "/api/desk/tickets",
        {
            "service": service.public_id,
            "subject": "x",
            "body": "y",
            "attachments": [{"filename": "a.txt", "content_base64": "not base64!"}],
        },
    )
    assert response.status_code == 422 and "base64" in response.json()["message"]


def test_disallowed_attachment_type_is_refused(carol: Any, carol_person: Any, service: Any) -> None:
    response = post(
        api_client_for(carol),
        "/api/desk/tickets",
        {
            "service": service.public_id,
            "subject": "x",
            "body": "y",
            "attachments": [{"filename": "setup.exe", "content_base64": base64.b64encode(b"MZ").decode()}],
        },
    )
    assert response.status_code == 422 and "cannot be attached" in response.json()["message"]


def test_oversized_attachment_is_refused(carol: Any, carol_person: Any, service: Any, settings: Any) -> None:
    settings.SERVICELOOP_ATTACHMENT_MAX_BYTES = 10
    response = post(
        api_client_for(carol),
        "/api/desk/tickets",
        {
            "service": service.public_id,
            "subject": "x",
            "body": "y",
            "attachments": [{"filename": "a.txt", "content_base64": base64.b64encode(b"x" * 11).decode()}],
        },
    )
    assert response.status_code == 422 and "larger than the limit" in response.json()["message"]


def test_customer_of_another_organisation_gets_404_everywhere(bob: Any, carol_person: Any, service: Any) -> None:
    ticket = make_ticket(carol_person, service, attachments=[])
    client = api_client_for(bob)
    for path in (f"/api/desk/tickets/{ticket.public_id}", f"/api/desk/tickets/{ticket.public_id}/messages"):
        assert client.get(path).status_code == 404
    assert post(client, f"/api/desk/tickets/{ticket.public_id}/messages", {"body": "hi"}).status_code == 404
    assert client.get("/api/desk/tickets").json()["count"] == 0


def test_customer_never_sees_internal_notes(carol: Any, carol_person: Any, service: Any, alex: Any) -> None:
    ticket = make_ticket(carol_person, service)
    ticket_reply(ticket=ticket, body="Customer is grumpy", by_user=alex, channel="staff", internal=True)
    bodies = [
        m["body"] for m in api_client_for(carol).get(f"/api/desk/tickets/{ticket.public_id}/messages").json()["items"]
    ]
    assert "Customer is grumpy" not in bodies and len(bodies) == 1
    staff_bodies = [
        m["body"] for m in api_client_for(alex).get(f"/api/desk/tickets/{ticket.public_id}/messages").json()["items"]
    ]
    assert "Customer is grumpy" in staff_bodies


def test_customer_cannot_post_an_internal_note(carol: Any, carol_person: Any, service: Any) -> None:
    ticket = make_ticket(carol_person, service)
    response = post(
        api_client_for(carol), f"/api/desk/tickets/{ticket.public_id}/messages", {"body": "x", "internal": True}
    )
    assert response.status_code == 403
    assert not Message.objects.filter(kind="internal").exists()


def test_plain_user_sees_only_own_tickets_but_customer_role_sees_organisation(
    carol: Any, carol_person: Any, dave: Any, service: Any, relationship_a: Any
) -> None:
    from serviceloop.desk.tests.factories import grant

    mine, theirs = make_ticket(carol_person, service), make_ticket(dave, service)
    client = api_client_for(carol)
    assert [t["public_id"] for t in client.get("/api/desk/tickets").json()["items"]] == [mine.public_id]
    assert client.get(f"/api/desk/tickets/{theirs.public_id}").status_code == 404
    grant(relationship_a, carol_person, "customer")
    assert {t["public_id"] for t in client.get("/api/desk/tickets").json()["items"]} == {
        mine.public_id,
        theirs.public_id,
    }


def test_staff_workflow_through_the_api(alex: Any, carol_person: Any, service: Any) -> None:
    ticket = make_ticket(carol_person, service)
    client = api_client_for(alex)
    base = f"/api/desk/tickets/{ticket.public_id}"
    assert (
        post(client, base + "/assign", {"assignee": alex.public_id}).json()["assignee"]["public_id"] == alex.public_id
    )
    assert post(client, base + "/status", {"status": "waiting_customer"}).json()["clock_paused"] is True
    assert post(client, base + "/resolve", {"resolution": "Fixed"}).json()["status"] == "resolved"
    assert post(client, base + "/reopen", {}).json()["reopen_count"] == 1
    assert post(client, base + "/close", {"duplicate": True}).json()["is_duplicate"] is True
    kinds = [e["kind"] for e in client.get(base + "/events").json()]
    assert kinds[0] == "created" and "reopened" in kinds and kinds[-1] == "closed"


def test_invalid_transition_answers_409_with_a_message(alex: Any, carol_person: Any, service: Any) -> None:
    ticket = make_ticket(carol_person, service)
    client = api_client_for(alex)
    post(client, f"/api/desk/tickets/{ticket.public_id}/close", {})
    response = post(client, f"/api/desk/tickets/{ticket.public_id}/status", {"status": "open"})
    assert response.status_code == 409 and "cannot become open" in response.json()["message"]


def test_unknown_status_is_a_422(alex: Any, carol_person: Any, service: Any) -> None:
    ticket = make_ticket(carol_person, service)
    response = post(api_client_for(alex), f"/api/desk/tickets/{ticket.public_id}/status", {"status": "frozen"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "status"


def test_bulk_assign_and_state_change(alex: Any, sam: Any, carol_person: Any, service: Any) -> None:
    tickets = [make_ticket(carol_person, service) for _ in range(3)]
    client = api_client_for(alex)
    ids = [t.public_id for t in tickets]
    response = post(client, "/api/desk/bulk", {"tickets": ids, "action": "assign", "assignee": sam.public_id})
    assert response.status_code == 200
    assert {t["assignee"]["public_id"] for t in response.json()["updated"]} == {sam.public_id}
    response = post(client, "/api/desk/bulk", {"tickets": ids, "action": "status", "status": "waiting_third_party"})
    assert {t["status"] for t in response.json()["updated"]} == {"waiting_third_party"}


def test_bulk_with_an_unknown_ticket_is_refused(alex: Any) -> None:
    response = post(api_client_for(alex), "/api/desk/bulk", {"tickets": ["nope"], "action": "status", "status": "open"})
    assert response.status_code == 422 and "nope" in response.json()["message"]


def test_search_finds_words_in_the_conversation(alex: Any, carol: Any, carol_person: Any, service: Any) -> None:
    ticket = make_ticket(carol_person, service, subject="Laptop issue", body="The screen flickers.")
    make_ticket(carol_person, service, subject="Other", body="Keyboard sticky.")
    ticket_reply(ticket=ticket, body="Replaced the hinge cable", by_user=alex, channel="staff")
    found = api_client_for(alex).get("/api/desk/tickets?q=hinge").json()["items"]
    assert [t["public_id"] for t in found] == [ticket.public_id]
    assert [
        t["public_id"] for t in api_client_for(carol).get("/api/desk/tickets?q=flickering screens").json()["items"]
    ] == [ticket.public_id]


def test_customer_search_does_not_match_internal_notes(alex: Any, carol: Any, carol_person: Any, service: Any) -> None:
    ticket = make_ticket(carol_person, service)
    ticket_reply(ticket=ticket, body="escalate to zebrafish team", by_user=alex, channel="staff", internal=True)
    assert api_client_for(carol).get("/api/desk/tickets?q=zebrafish").json()["count"] == 0
    assert api_client_for(alex).get("/api/desk/tickets?q=zebrafish").json()["count"] == 1


def test_search_never_reaches_another_organisation(bob: Any, bob_person: Any, carol_person: Any, service: Any) -> None:
    make_ticket(carol_person, service, subject="Quarterly payroll export")
    assert api_client_for(bob).get("/api/desk/tickets?q=payroll").json()["count"] == 0


def test_search_with_odd_characters_is_safe(alex: Any) -> None:
    for q in ('"', "AND OR NOT", "*", "a:b", "(", "'; drop table"):
        assert api_client_for(alex).get("/api/desk/tickets", {"q": q}).status_code == 200


def test_ticket_list_does_not_query_per_row(
    alex: Any, carol_person: Any, service: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(15):
        make_ticket(carol_person, service)
    client = api_client_for(alex)
    with django_assert_max_num_queries(8):
        assert client.get("/api/desk/tickets?limit=50").json()["count"] == 15


def test_offerings_for_a_new_ticket_are_those_the_organisation_consumes(
    carol: Any, offering: Any, relationship_a: Any
) -> None:
    make_service("Not ours")
    items = api_client_for(carol).get("/api/desk/offerings").json()["items"]
    assert [i["offering"]["public_id"] for i in items] == [offering.public_id]


def test_attachment_of_internal_note_is_hidden_from_customers(
    alex: Any, carol: Any, carol_person: Any, service: Any
) -> None:
    from serviceloop.desk.services import NewAttachment

    ticket = make_ticket(carol_person, service)
    note = ticket_reply(
        ticket=ticket,
        body="screenshot of admin console",
        by_user=alex,
        channel="staff",
        internal=True,
        attachments=[NewAttachment(filename="console.png", content=b"\x89PNG")],
    )
    file_id = note.attachments.get().public_id
    assert api_client_for(carol).get(f"/api/desk/attachments/{file_id}").status_code == 404
    response = api_client_for(alex).get(f"/api/desk/attachments/{file_id}")
    assert base64.b64decode(response.json()["content_base64"]) == b"\x89PNG"
