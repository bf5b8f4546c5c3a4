from __future__ import annotations

from typing import Any

from django import forms

from serviceloop.accounts.models import Organisation, User, currency, provider_hourly_cost
from serviceloop.accounts.versioning import VersionedForm
from serviceloop.catalogue.models import Offering
from serviceloop.core.forms import BoundedDateField
from serviceloop.relationships.models import Person, Relationship, RelationshipRole


class OrganisationForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=80, required=False, help_text="Made from the name if left empty.")
    domain = forms.CharField(max_length=200, required=False, help_text="Email domain of its people, e.g. acme.example")
    notes = forms.CharField(widget=forms.Textarea, required=False)
    hourly_cost = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
        label="Hourly cost",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read when the form is made: the currency and the default are settings.
        self.fields["hourly_cost"].help_text = (
            f"What an hour of its people's lost work time costs, in {currency()}, to show lost time in money. "
            f"Empty: the default, {provider_hourly_cost()} {currency()}."
        )


class PersonForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(max_length=254)
    time_zone = forms.CharField(max_length=64, initial="UTC", help_text="e.g. Europe/London, America/New_York")
    survey_opt_out = forms.BooleanField(required=False, label="Opted out of surveys")
    user = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label="Customer login", help_text="Optional: their sign-in."
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            role=User.Role.CUSTOMER, organisation=organisation
        )


class OrganisationEditForm(OrganisationForm, VersionedForm):
    pass


class PersonEditForm(PersonForm, VersionedForm):
    pass


class RelationshipForm(forms.Form):
    offering = forms.ModelChoiceField(queryset=Offering.objects.select_related("service"))
    started_on = BoundedDateField()
    status = forms.ChoiceField(choices=[c for c in Relationship.Status.choices if c[0] != Relationship.Status.ENDED])
    notes = forms.CharField(widget=forms.Textarea, required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Relationship.Status.choices)
    on = BoundedDateField(required=False, label="Ended on")
    note = forms.CharField(max_length=300, required=False)


class RoleGrantForm(forms.Form):
    person = forms.ModelChoiceField(queryset=Person.objects.none())
    role = forms.ChoiceField(choices=RelationshipRole.Role.choices)

    def __init__(self, *args: Any, organisation: Organisation | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every person is accepted so that choosing one of another organisation is refused with a reason.
        people = Person.objects.all() if organisation is None else Person.objects.filter(organisation=organisation)
        self.fields["person"].queryset = people  # type: ignore[attr-defined]


class RoleRevokeForm(forms.Form):
    person = forms.CharField(max_length=24)
    role = forms.ChoiceField(choices=RelationshipRole.Role.choices)
