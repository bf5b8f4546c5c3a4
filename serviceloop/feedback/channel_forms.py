"""Forms of the channels pages: widget sites, matching rules, post sources, triage, public answers."""

from __future__ import annotations

from typing import Any

from django import forms

from serviceloop.catalogue.models import Offering, Service
from serviceloop.feedback.models import MatchRule, WidgetSite
from serviceloop.feedback.services.channels import MAX_COMMENT


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class WidgetSiteForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="Where the widget sits, e.g. “Intranet help page”")
    service = ServiceChoiceField(queryset=Service.objects.order_by("name"), to_field_name="public_id")
    offering = forms.ModelChoiceField(
        queryset=Offering.objects.select_related("service").order_by("service__name", "name"),
        to_field_name="public_id",
        required=False,
    )
    allowed_origins = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One origin a line, e.g. https://intranet.example — only these pages may show the widget",
    )
    question = forms.ChoiceField(choices=WidgetSite.Question.choices)
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def origins(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["allowed_origins"].splitlines() if line.strip()]


class MatchRuleForm(forms.Form):
    kind = forms.ChoiceField(choices=MatchRule.Kind.choices)
    pattern = forms.CharField(max_length=200, help_text="@handle, #hashtag, or a word or phrase")
    case_sensitive = forms.BooleanField(required=False)


class PostSourceForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="As the posts name their source, e.g. mastodon")
    secret = forms.CharField(max_length=200, min_length=16, help_text="At least 16 characters; shared with the sender")


class AssignForm(forms.Form):
    service = ServiceChoiceField(queryset=Service.objects.order_by("name"), to_field_name="public_id")


class PublicAnswerForm(forms.Form):
    score = forms.IntegerField(min_value=0, max_value=10)
    comment = forms.CharField(required=False, max_length=MAX_COMMENT, widget=forms.Textarea(attrs={"rows": 3}))


class CorrectionForm(forms.Form):
    label = forms.ChoiceField(choices=[("positive", "Positive"), ("neutral", "Neutral"), ("negative", "Negative")])
