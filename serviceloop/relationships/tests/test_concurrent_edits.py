"""Organisations, people and relationships: ETag and If-Match on the API, the version in the edit
forms, and the audit events of their writes."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import api_client_for
from serviceloop.catalogue.models import Offering
from serviceloop.core.models import Event
from serviceloop.relationships.models import Person, Relationship
from serviceloop.relationships.services import (
    organisation_update,
    person_update,
    relationship_create,
    relationship_set_status,
    relationship_update_notes,
    role_grant,
)


def _patch(client: Client, url: str, body: dict[str, Any], **headers: str) -> Any:
    return client.patch(url, data=json.dumps(body), content_type="application/json", headers=headers)


def test_an_organisation_patch_on_an_earlier_version_answers_412_naming_who(
    sam: User, ada: User, org_a: Organisation
) -> None:
    client = api_client_for(sam)
    url = f"/api/relationships/organisations/{org_a.public_id}"
    etag = client.get(url).headers["ETag"]
    organisation_update(organisation=Organisation.objects.get(pk=org_a.pk), by=ada, notes="Renewal in March")
    response = _patch(client, url, {"name": "Acme"}, **{"If-Match": etag})
    assert response.status_code == 412
    assert response.json()["code"] == "stale"
    assert response.json()["message"].startswith("Ada Admin changed this organisation at ")
    assert Organisation.objects.get(pk=org_a.pk).name == "Acme Logistics"


def test_an_organisation_patch_without_if_match_still_applies(sam: User, ada: User, org_a: Organisation) -> None:
    organisation_update(organisation=Organisation.objects.get(pk=org_a.pk), by=ada, notes="Renewal in March")
    response = _patch(api_client_for(sam), f"/api/relationships/organisations/{org_a.public_id}", {"name": "Acme"})
    assert response.status_code == 200
    assert response.headers["ETag"] == '"3"'
    stored = Organisation.objects.get(pk=org_a.pk)
    assert (stored.name, stored.notes) == ("Acme", "Renewal in March")


def test_a_person_patch_on_an_earlier_version_answers_412(sam: User, ada: User, dave: Person) -> None:
    client = api_client_for(sam)
    url = f"/api/relationships/people/{dave.public_id}"
    etag = client.get(url).headers["ETag"]
    person_update(person=Person.objects.get(pk=dave.pk), by=ada, time_zone="Europe/Berlin")
    response = _patch(client, url, {"name": "David"}, **{"If-Match": etag})
    assert response.status_code == 412
    assert "Ada Admin changed this person" in response.json()["message"]
    assert Person.objects.get(pk=dave.pk).name == "Dave Acme"


def test_a_relationship_notes_patch_with_the_current_etag_applies(sam: User, relationship_a: Relationship) -> None:
    client = api_client_for(sam)
    url = f"/api/relationships/relationships/{relationship_a.public_id}"
    etag = client.get(url).headers["ETag"]
    response = _patch(client, url, {"notes": "Quarterly review"}, **{"If-Match": etag})
    assert response.status_code == 200
    assert response.headers["ETag"] != etag
    stale = _patch(client, url, {"notes": "Monthly review"}, **{"If-Match": etag})
    assert stale.status_code == 412
    assert Relationship.objects.get(pk=relationship_a.pk).notes == "Quarterly review"


def _page(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_stale_person_form_names_who_changed_the_person_and_saves_nothing(sam: User, ada: User, dave: Person) -> None:
    url = reverse("relationships:person_edit", args=[dave.public_id])
    page = _page(sam)
    initial = page.get(url).context["form"].initial
    person_update(person=Person.objects.get(pk=dave.pk), by=ada, name="David Acme")
    response = page.post(url, {**initial, "user": "", "time_zone": "Europe/London"})
    assert response.status_code == 422
    assert "Ada Admin changed this person" in " ".join(response.context["form"].non_field_errors())
    stored = Person.objects.get(pk=dave.pk)
    assert (stored.name, stored.time_zone) == ("David Acme", "UTC")


def test_a_stale_organisation_form_is_refused(sam: User, ada: User, org_a: Organisation) -> None:
    url = reverse("relationships:organisation_edit", args=[org_a.public_id])
    page = _page(sam)
    initial = page.get(url).context["form"].initial
    organisation_update(organisation=Organisation.objects.get(pk=org_a.pk), by=ada, notes="Renewal in March")
    response = page.post(url, {**initial, "name": "Acme"})
    assert response.status_code == 422
    assert "Ada Admin changed this organisation" in " ".join(response.context["form"].non_field_errors())
    assert Organisation.objects.get(pk=org_a.pk).name == "Acme Logistics"


def test_relationship_writes_record_their_events_with_actor_and_subject(
    sam: User, org_a: Organisation, offering: Offering, dave: Person
) -> None:
    archive = Offering.objects.create(service=offering.service, name="Archive", slug="archive")
    relationship = relationship_create(by=sam, organisation=org_a, offering=archive, started_on=date(2026, 1, 5))
    relationship_update_notes(relationship=relationship, by=sam, notes="Pilot")
    role_grant(relationship=relationship, person=dave, role="sponsor", by=sam)
    relationship_set_status(relationship=relationship, by=sam, status="ended", on=date(2026, 6, 30))
    events = Event.objects.filter(subject_type="relationships.relationship", subject_id=relationship.pk)
    assert sorted(events.values_list("name", flat=True)) == [
        "relationship.ended",
        "relationship.role_granted",
        "relationship.started",
        "relationship.updated",
    ]
    assert set(events.values_list("actor_id", flat=True)) == {sam.pk}
    granted = events.get(name="relationship.role_granted")
    assert granted.data == {"relationship_id": relationship.pk, "person_id": dave.pk, "role": "sponsor"}
    assert events.get(name="relationship.updated").data["changed"] == ["notes"]


def test_changing_a_person_records_the_changed_field_names_not_their_values(sam: User, dave: Person) -> None:
    person_update(person=dave, by=sam, name="David Acme", email="david@acme.example")
    event = Event.objects.get(name="person.updated")
    assert (event.subject_id, event.actor_id) == (dave.pk, sam.pk)
    assert event.data == {"person_id": dave.pk, "changed": ["email", "name"]}
    assert "david@acme.example" not in json.dumps(event.data)
