from __future__ import annotations

from django import forms

from serviceloop.accounts.models import User
from serviceloop.accounts.versioning import VersionedForm
from serviceloop.catalogue.models import OfferingComponent, Service, ValueItem


class ServiceForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=80, required=False, help_text="Part of links; made from the name if left empty.")
    description = forms.CharField(widget=forms.Textarea, required=False)
    lifecycle = forms.ChoiceField(choices=Service.Lifecycle.choices, initial=Service.Lifecycle.PIPELINE)
    criticality = forms.ChoiceField(choices=Service.Criticality.choices, initial=Service.Criticality.MEDIUM)
    service_manager = forms.ModelChoiceField(
        queryset=User.objects.none(),
        help_text="Accountable for the service: a service manager or an administrator.",
        error_messages={"invalid_choice": "Pick an active service manager or administrator from the list."},
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Only those who may be accountable are offered: service managers and administrators.
        field = self.fields["service_manager"]
        field.queryset = User.objects.filter(  # type: ignore[attr-defined]
            role__in=(User.Role.SERVICE_MANAGER, User.Role.ADMINISTRATOR), is_active=True
        ).order_by("name", "email")
        field.label_from_instance = lambda user: f"{user.display_name} ({user.get_role_display().lower()})"  # type: ignore[attr-defined]


class ServiceEditForm(ServiceForm, VersionedForm):
    pass


class OfferingForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=80, required=False, help_text="Made from the name if left empty.")
    target_group = forms.CharField(max_length=200, required=False, help_text="Who it is for.")
    description = forms.CharField(widget=forms.Textarea, required=False)


class ComponentForm(forms.Form):
    kind = forms.ChoiceField(choices=OfferingComponent.Kind.choices)
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea, required=False)
    position = forms.IntegerField(min_value=0, max_value=100000, required=False)


class ValueItemForm(forms.Form):
    kind = forms.ChoiceField(choices=ValueItem.Kind.choices)
    description = forms.CharField(max_length=500)
    financial = forms.BooleanField(
        required=False, help_text="Money (a fee, a saving) rather than time, effort or risk."
    )
    estimate = forms.DecimalField(
        min_value=0, max_digits=14, decimal_places=2, required=False, help_text="A size, never negative."
    )
    unit = forms.CharField(max_length=50, required=False, help_text="e.g. EUR per month, minutes per booking")
    position = forms.IntegerField(min_value=0, max_value=100000, required=False)


class OfferingEditForm(OfferingForm, VersionedForm):
    pass
