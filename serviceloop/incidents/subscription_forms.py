"""The public forms of status subscriptions: sign up, and choose what to follow."""

from __future__ import annotations

from typing import Any

from django import forms

from serviceloop.catalogue.models import Service


class ComponentChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        component = getattr(obj, "status_component", None)
        return component.name if component is not None else obj.name


def _public_services() -> Any:
    return (
        Service.objects.filter(status_component__is_public=True)
        .select_related("status_component")
        .order_by("status_component__group__position", "status_component__position", "status_component__name")
    )


class ServicesForm(forms.Form):
    scope = forms.ChoiceField(
        label="Tell me about",
        choices=[("all", "Every service"), ("some", "Only the services I tick")],
        initial="all",
        widget=forms.RadioSelect,
    )
    services = ComponentChoice(
        queryset=Service.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Services",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = _public_services()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("scope") == "some" and not cleaned.get("services"):
            self.add_error("services", "Tick at least one service, or choose every service.")
        return cleaned

    def chosen(self) -> list[Service]:
        if self.cleaned_data.get("scope") != "some":
            return []
        return list(self.cleaned_data.get("services") or [])


class SubscribeForm(ServicesForm):
    email = forms.EmailField(label="Email address", max_length=254)

    field_order = ["email", "scope", "services"]


class WebhookForm(ServicesForm):
    url = forms.URLField(label="Webhook URL", max_length=500, assume_scheme="https")
    owner_email = forms.EmailField(
        label="Owner's email address",
        max_length=254,
        help_text="We send the confirmation here, and tell this address if the webhook is disabled.",
    )

    field_order = ["url", "owner_email", "scope", "services"]
