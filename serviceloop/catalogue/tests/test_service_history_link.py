"""The service page links to the service's audit trail in the event log."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from serviceloop.catalogue.tests.factories import make_service


def test_the_service_page_links_to_its_history(sam: Any) -> None:
    service = make_service(sam, name="VPN")
    client = Client()
    client.force_login(sam)
    page = client.get(reverse("catalogue:service_detail", kwargs={"public_id": service.public_id})).content.decode()
    url = reverse("core:object_history", kwargs={"subject_type": "catalogue.service", "public_id": service.public_id})
    assert f'href="{url}"' in page
