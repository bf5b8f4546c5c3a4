from __future__ import annotations

from typing import Any

from django import forms

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.forms import BoundedDateField
from serviceloop.feedback.models import (
    SCORE_KINDS,
    Channel,
    Driver,
    LostTime,
    QuestionKind,
    SentimentLabel,
    SuppressedInvitation,
    SurveyKind,
    SurveyVersion,
)
from serviceloop.feedback.queries import PERIODS, SuppressedFilters
from serviceloop.feedback.questions import DEFAULT_TEXT, drivers_offered, drivers_question


class FollowUpForm(forms.Form):
    """The optional follow-ups on the page a click opens; each may be saved alone."""

    lost_time_bucket = forms.ChoiceField(
        label="How much work time did this cost you?",
        choices=LostTime.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    drivers = forms.MultipleChoiceField(
        label="What made the difference?", choices=Driver.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    comment = forms.CharField(
        label="Anything you would like to tell us?",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, version: SurveyVersion, score: int | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = version.score_kind
        for field, question_kind in (
            ("lost_time_bucket", QuestionKind.LOST_TIME),
            ("drivers", QuestionKind.DRIVERS),
            ("comment", QuestionKind.COMMENT),
        ):
            question = version.question(question_kind)
            if question is None:
                del self.fields[field]
            else:
                self.fields[field].label = question["text"]
        if "drivers" in self.fields:
            drivers_field: Any = self.fields["drivers"]
            drivers_field.choices = [(d.value, d.label) for d in drivers_offered(kind, score)]
            drivers_field.label = drivers_question(kind, score)


class SurveyForm(forms.Form):
    """The survey designer: the score in the email and which follow-ups the page asks."""

    name = forms.CharField(max_length=200)
    service = forms.ModelChoiceField(queryset=Service.objects.order_by("name"))
    offering = forms.ModelChoiceField(
        queryset=Offering.objects.select_related("service").order_by("service__name", "name"),
        required=False,
        help_text="Leave empty for every offering of the service",
    )
    kind = forms.ChoiceField(choices=SurveyKind.choices)
    is_active = forms.BooleanField(required=False, initial=True, label="Active")
    intro = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    score_kind = forms.ChoiceField(label="The question in the email", choices=[(k.value, k.label) for k in SCORE_KINDS])
    score_text = forms.CharField(max_length=300, required=False, help_text="Empty: the standard wording")
    ask_lost_time = forms.BooleanField(required=False, initial=True, label="Ask for lost time")
    ask_drivers = forms.BooleanField(required=False, initial=True, label="Ask for drivers")
    ask_comment = forms.BooleanField(required=False, initial=True, label="Ask for a comment")
    comment_text = forms.CharField(max_length=300, required=False, help_text="Empty: the standard wording")

    def questions(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        kind = data["score_kind"]
        questions = [{"kind": kind, "text": data.get("score_text") or DEFAULT_TEXT[kind], "required": True}]
        if data.get("ask_lost_time"):
            questions.append({"kind": QuestionKind.LOST_TIME.value, "text": DEFAULT_TEXT[QuestionKind.LOST_TIME]})
        if data.get("ask_drivers"):
            questions.append({"kind": QuestionKind.DRIVERS.value, "text": DEFAULT_TEXT[QuestionKind.DRIVERS]})
        if data.get("ask_comment"):
            questions.append(
                {
                    "kind": QuestionKind.COMMENT.value,
                    "text": data.get("comment_text") or DEFAULT_TEXT[QuestionKind.COMMENT],
                }
            )
        return questions

    @staticmethod
    def initial_from(version: SurveyVersion) -> dict[str, Any]:
        survey = version.survey
        comment = version.question(QuestionKind.COMMENT)
        return {
            "name": survey.name,
            "service": survey.service_id,
            "offering": survey.offering_id,
            "kind": survey.kind,
            "is_active": survey.is_active,
            "intro": version.intro,
            "score_kind": version.score_kind,
            "score_text": version.first_question.get("text", ""),
            "ask_lost_time": version.asks(QuestionKind.LOST_TIME),
            "ask_drivers": version.asks(QuestionKind.DRIVERS),
            "ask_comment": comment is not None,
            "comment_text": comment["text"] if comment else "",
        }


class StreamFilterForm(forms.Form):
    channel = forms.ChoiceField(choices=[("", "Any channel"), *Channel.choices], required=False)
    band = forms.ChoiceField(
        label="Score",
        choices=[
            ("", "Any score"),
            ("promoter", "Promoters 9–10"),
            ("passive", "Passives 7–8"),
            ("detractor", "Detractors 0–6"),
            *[(str(n), f"CSAT {n}") for n in range(1, 6)],
        ],
        required=False,
    )
    sentiment = forms.ChoiceField(choices=[("", "Any sentiment"), *SentimentLabel.choices], required=False)
    driver = forms.ChoiceField(choices=[("", "Any driver"), *Driver.choices], required=False)
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.order_by("name"),
        to_field_name="public_id",
        required=False,
        empty_label="Any organisation",
    )
    period = forms.ChoiceField(
        choices=[("", "All time"), *[(key, f"Last {days} days") for key, days in PERIODS.items()]], required=False
    )
    # The days the experience pages' charts link with (their rows behind a point), and the offering.
    since = BoundedDateField(label="From", required=False)
    until = BoundedDateField(label="To", required=False)
    offering = forms.ModelChoiceField(
        queryset=Offering.objects.none(), to_field_name="public_id", required=False, empty_label="Any offering"
    )

    def __init__(self, *args: Any, service: Service | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offerings = Offering.objects.filter(service=service) if service is not None else Offering.objects.all()
        self.fields["offering"].queryset = offerings.order_by("name")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date is before the start date.")
        return cleaned


class SuppressedFilterForm(forms.Form):
    """The suppressed-invitation log's filters: shape only; a filter that does not parse shows its error."""

    q = forms.CharField(label="Person", required=False, max_length=200)
    reason = forms.ChoiceField(choices=[("", "Any reason"), *SuppressedInvitation.Reason.choices], required=False)
    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"), to_field_name="public_id", required=False, empty_label="Any service"
    )
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.order_by("name"),
        to_field_name="public_id",
        required=False,
        empty_label="Any organisation",
    )
    since = BoundedDateField(label="From", required=False)
    until = BoundedDateField(label="To", required=False)
    # Set by links from a person's page and a ticket's panel; no field of their own on the page.
    person = forms.CharField(required=False, max_length=24, widget=forms.HiddenInput)
    ticket = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update({"type": "search", "placeholder": "Name or email"})

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date is before the start date.")
            cleaned.pop("until", None)
        return cleaned

    def filters(self) -> SuppressedFilters:
        """The filters that parsed; one bad field does not throw the others away."""
        data = getattr(self, "cleaned_data", {})
        service, organisation = data.get("service"), data.get("organisation")
        return SuppressedFilters(
            reason=data.get("reason") or None,
            service=service.public_id if service else None,
            organisation=organisation.public_id if organisation else None,
            person=data.get("person") or None,
            ticket=data.get("ticket") or None,
            since=data.get("since"),
            until=data.get("until"),
            q=(data.get("q") or "").replace("\x00", "").strip(),
        )
