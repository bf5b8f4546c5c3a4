from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from serviceloop.accounts.models import User
from serviceloop.accounts.services import user_create
from serviceloop.core.errors import ConflictError, InvalidInput


def test_a_customer_user_needs_an_organisation(db) -> None:
    with pytest.raises(InvalidInput, match="organisation"):
        user_create(email="x@acme.example", role=User.Role.CUSTOMER)


def test_the_database_refuses_a_customer_without_organisation(db) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="x@acme.example", role=User.Role.CUSTOMER)


def test_staff_cannot_belong_to_a_consumer_organisation(org_a) -> None:
    with pytest.raises(InvalidInput, match="Staff"):
        user_create(email="s@provider.example", role=User.Role.AGENT, organisation=org_a)


def test_duplicate_email_is_a_conflict(alex) -> None:
    with pytest.raises(ConflictError):
        user_create(email="ALEX@provider.example", role=User.Role.AGENT, validate=False, password="x")


def test_weak_password_is_refused_with_the_reason(db) -> None:
    with pytest.raises(InvalidInput, match=r"too common|too short"):
        user_create(email="w@provider.example", role=User.Role.AGENT, password="password")


def test_only_administrators_reach_the_django_admin(ada, alex) -> None:
    assert ada.is_staff and ada.is_superuser
    assert not alex.is_staff


def test_unknown_time_zone_is_refused(db) -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        user_create(email="t@provider.example", role=User.Role.AGENT, time_zone="Mars/Olympus")


def test_an_organisation_domain_must_be_an_email_domain(db) -> None:
    from serviceloop.accounts.services import organisation_create

    with pytest.raises(InvalidInput, match="not an email domain") as caught:
        organisation_create(name="Odd", domain="not a domain!!")
    assert caught.value.field == "domain"


def test_two_organisations_cannot_share_a_domain(org_a) -> None:
    from serviceloop.accounts.services import organisation_create

    with pytest.raises(ConflictError, match="already uses the domain"):
        organisation_create(name="Copycat", domain="ACME.example")


def test_a_duplicate_organisation_name_is_reported_on_the_name(org_a) -> None:
    from serviceloop.accounts.services import organisation_create

    with pytest.raises(ConflictError) as caught:
        organisation_create(name="Acme Logistics")
    assert caught.value.field == "name"
