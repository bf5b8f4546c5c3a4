import pytest

from serviceloop.incidents.models import Incident
from serviceloop.incidents.references import next_reference

pytestmark = pytest.mark.django_db


def test_each_kind_counts_its_own_series() -> None:
    assert next_reference(Incident.Kind.INCIDENT) == "MI-1"
    assert next_reference(Incident.Kind.INCIDENT) == "MI-2"
    assert next_reference(Incident.Kind.MAINTENANCE) == "MW-1"
    assert next_reference(Incident.Kind.INCIDENT) == "MI-3"


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        next_reference("outage")
