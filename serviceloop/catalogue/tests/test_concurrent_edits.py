"""Two managers editing one service or offering: the ETag and If-Match on the API, the version in
the edit form; a stale edit is refused with who changed it meanwhile, never a silent revert."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import User
from serviceloop.accounts.testing import api_client_for, at_once
from serviceloop.catalogue.models import Offering, Service
from serviceloop.catalogue.services import offering_update, service_update
from serviceloop.catalogue.tests.factories import make_offering, make_service
from serviceloop.core.models import Event


def _patch(client: Client, url: str, body: dict[str, Any], **headers: str) -> Any:
    return client.patch(url, data=json.dumps(body), content_type="application/json", headers=headers)


def test_a_service_answers_its_version_as_an_etag(sam: User) -> None:
    service = make_service(sam)
    response = api_client_for(sam).get(f"/api/catalogue/services/{service.public_id}")
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'


def test_a_patch_with_the_current_etag_applies_and_answers_the_next_one(sam: User) -> None:
    service = make_service(sam)
    client = api_client_for(sam)
    etag = client.get(f"/api/catalogue/services/{service.public_id}").headers["ETag"]
    response = _patch(client, f"/api/catalogue/services/{service.public_id}", {"name": "Mail"}, **{"If-Match": etag})
    assert response.status_code == 200, response.content
    assert response.headers["ETag"] == '"2"'
    assert Service.objects.get().name == "Mail"


def test_a_patch_on_an_earlier_version_answers_412_naming_who_changed_it(sam: User, ada: User) -> None:
    service = make_service(sam, description="Mail and calendars")
    client = api_client_for(sam)
    etag = client.get(f"/api/catalogue/services/{service.public_id}").headers["ETag"]
    service_update(service=Service.objects.get(), by=ada, description="Mail, calendars and chat")
    response = _patch(client, f"/api/catalogue/services/{service.public_id}", {"name": "Mail"}, **{"If-Match": etag})
    assert response.status_code == 412
    body = response.json()
    assert body["code"] == "stale"
    assert body["message"].startswith("Ada Admin changed this service at ")
    assert body["message"].endswith("; reload and apply your change again.")
    stored = Service.objects.get()
    assert (stored.name, stored.description, stored.version) == (service.name, "Mail, calendars and chat", 2)


def test_a_patch_without_if_match_applies_to_whatever_is_stored(sam: User, ada: User) -> None:
    service = make_service(sam, description="Mail and calendars")
    service_update(service=Service.objects.get(), by=ada, description="Mail, calendars and chat")
    response = _patch(api_client_for(sam), f"/api/catalogue/services/{service.public_id}", {"name": "Mail"})
    assert response.status_code == 200
    stored = Service.objects.get()
    # Last writer wins field by field: Ada's description stays.
    assert (stored.name, stored.description, stored.version) == ("Mail", "Mail, calendars and chat", 3)


def test_an_offering_patch_on_an_earlier_version_answers_412(sam: User, ada: User) -> None:
    offering = make_offering(sam)
    client = api_client_for(sam)
    etag = client.get(f"/api/catalogue/offerings/{offering.public_id}").headers["ETag"]
    offering_update(offering=Offering.objects.get(), by=ada, target_group="Everyone")
    response = _patch(
        client, f"/api/catalogue/offerings/{offering.public_id}", {"name": "Big mailbox"}, **{"If-Match": etag}
    )
    assert response.status_code == 412
    assert response.json()["message"].startswith("Ada Admin changed this offering")
    assert Offering.objects.get().name == "Mailbox"


def test_an_if_match_that_is_not_an_etag_of_ours_answers_412(sam: User) -> None:
    service = make_service(sam)
    response = _patch(
        api_client_for(sam), f"/api/catalogue/services/{service.public_id}", {"name": "M"}, **{"If-Match": '"abc"'}
    )
    assert response.status_code == 412
    assert Service.objects.get().name == service.name


@pytest.mark.django_db(transaction=True)
def test_two_managers_patching_the_same_version_at_once_one_wins_one_is_told(sam: User, ada: User) -> None:
    service = make_service(sam)
    url = f"/api/catalogue/services/{service.public_id}"
    lost = 0
    for round_ in range(3):
        etag = api_client_for(sam).get(url).headers["ETag"]
        mine, theirs = api_client_for(sam), api_client_for(ada)
        answers = at_once(
            lambda: _patch(mine, url, {"name": f"Sam {round_}"}, **{"If-Match": etag}),  # noqa: B023
            lambda: _patch(theirs, url, {"description": f"Ada {round_}"}, **{"If-Match": etag}),  # noqa: B023
        )
        statuses = sorted(str(getattr(a, "status_code", a)) for a in answers)
        assert statuses == ["200", "412"], answers
        stored = Service.objects.get()
        won = next(i for i, a in enumerate(answers) if a.status_code == 200)
        # The winner's change is stored; the refused one changed nothing.
        lost += int(stored.name != f"Sam {round_}") if won == 0 else int(stored.description != f"Ada {round_}")
        lost += int(stored.name == f"Sam {round_}" and stored.description == f"Ada {round_}")
    assert lost == 0


def _page_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_stale_edit_form_is_shown_again_naming_who_changed_it_and_saves_nothing(sam: User, ada: User) -> None:
    service = make_service(sam, description="Mail and calendars")
    url = reverse("catalogue:service_edit", args=[service.public_id])
    page = _page_client(sam)
    form = page.get(url).context["form"]
    assert form.initial["version"] == 1
    service_update(service=Service.objects.get(), by=ada, description="Mail, calendars and chat")
    data = {**form.initial, "name": "Mail", "service_manager": sam.pk}
    response = page.post(url, data)
    assert response.status_code == 422
    errors = " ".join(response.context["form"].non_field_errors())
    assert "Ada Admin changed this service at " in errors
    assert "reload and apply your change again" in response.content.decode()
    stored = Service.objects.get()
    assert (stored.name, stored.description) == (service.name, "Mail, calendars and chat")


def test_an_edit_form_of_the_current_version_saves(sam: User) -> None:
    service = make_service(sam)
    url = reverse("catalogue:service_edit", args=[service.public_id])
    page = _page_client(sam)
    form = page.get(url).context["form"]
    response = page.post(url, {**form.initial, "name": "Mail", "service_manager": sam.pk})
    assert response.status_code == 302
    assert (Service.objects.get().name, Service.objects.get().version) == ("Mail", 2)


def test_a_stale_offering_form_is_refused(sam: User, ada: User) -> None:
    offering = make_offering(sam)
    url = reverse("catalogue:offering_edit", args=[offering.public_id])
    page = _page_client(sam)
    form = page.get(url).context["form"]
    offering_update(offering=Offering.objects.get(), by=ada, description="Now with archiving")
    response = page.post(url, {**form.initial, "name": "Big mailbox"})
    assert response.status_code == 422
    assert "Ada Admin changed this offering" in " ".join(response.context["form"].non_field_errors())
    assert Offering.objects.get().name == "Mailbox"


def test_changing_a_service_records_who_changed_which_fields(sam: User, ada: User) -> None:
    service = make_service(sam)
    service_update(service=service, by=ada, name="Mail", description="Mail and calendars")
    event = Event.objects.filter(name="service.updated").get()
    assert (event.subject_type, event.subject_id, event.actor_id) == ("catalogue.service", service.pk, ada.pk)
    assert event.data == {"service_id": service.pk, "changed": ["description", "name"]}


def test_retiring_a_service_records_service_retired(sam: User) -> None:
    service = make_service(sam)
    service_update(service=service, by=sam, lifecycle="retired")
    assert Event.objects.filter(name="service.retired", subject_id=service.pk, actor_id=sam.pk).exists()
