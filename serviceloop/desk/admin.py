from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from serviceloop.core.errors import DomainError
from serviceloop.desk.models import (
    BusinessCalendar,
    Holiday,
    InboundMail,
    MailRoute,
    OrganisationMailPolicy,
    PriorityRule,
    SlaEvent,
    SlaTarget,
    Team,
    Ticket,
)
from serviceloop.desk.search import search_reindex
from serviceloop.desk.services.mail_routes import normalise_address, normalise_keywords


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone")
    inlines = [HolidayInline]


@admin.register(SlaTarget)
class SlaTargetAdmin(admin.ModelAdmin):
    list_display = ("service", "offering", "priority", "first_response_minutes", "resolution_minutes", "calendar")
    list_filter = ("priority", "calendar")


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin):
    list_display = ("impact", "urgency", "priority")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name",)
    filter_horizontal = ("members",)


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ("reference", "subject", "organisation", "service", "status", "priority", "opened_at")
    list_filter = ("status", "priority", "type")
    search_fields = ("reference", "subject")
    raw_id_fields = ("requester", "assignee", "service", "offering", "organisation", "sla_target")

    def save_model(self, request: HttpRequest, obj: Ticket, form: Any, change: bool) -> None:
        # A ticket moved to another requester or organisation (or retitled) here is found by its new ones.
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            search_reindex(ticket_ids=[obj.pk])


@admin.register(SlaEvent)
class SlaEventAdmin(admin.ModelAdmin):
    list_display = ("ticket", "target", "kind", "at")
    list_filter = ("target", "kind")
    raw_id_fields = ("ticket",)


@admin.register(InboundMail)
class InboundMailAdmin(admin.ModelAdmin):
    list_display = ("received_at", "source", "from_email", "subject", "outcome", "reason", "auth_dmarc", "ticket")
    list_filter = ("outcome", "source", "auth_dmarc")
    search_fields = ("from_email", "subject", "email_message_id", "public_id")
    raw_id_fields = ("ticket", "message", "reviewed_by")
    readonly_fields = ("route", "auth_results", "auth_dmarc", "auth_dkim", "auth_spf", "processed_at", "reviewed_at")


@admin.register(OrganisationMailPolicy)
class OrganisationMailPolicyAdmin(admin.ModelAdmin):
    """Where an operator requires DMARC for an organisation's mail (docs/email.md)."""

    list_display = ("organisation", "require_dmarc_pass", "updated_at")
    list_filter = ("require_dmarc_pass",)
    search_fields = ("organisation__name", "organisation__domain")
    raw_id_fields = ("organisation",)


class MailRouteAdminForm(forms.ModelForm):
    """Addresses are kept lower-case, keywords tidy; a duplicate address is a field error (the constraint)."""

    class Meta:
        model = MailRoute
        fields = (
            "service",
            "offering",
            "address",
            "keywords",
            "sender_organisation",
            "position",
            "is_active",
            "note",
        )

    def clean_address(self) -> str:
        try:
            return normalise_address(self.cleaned_data.get("address") or "")
        except DomainError as error:
            raise forms.ValidationError(error.message) from None

    def clean_keywords(self) -> str:
        try:
            return normalise_keywords(self.cleaned_data.get("keywords") or "")
        except DomainError as error:
            raise forms.ValidationError(error.message) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        offering, service = data.get("offering"), data.get("service")
        if offering is not None and service is not None and offering.service_id != service.pk:
            self.add_error("offering", "That offering belongs to another service.")
        return data


@admin.register(MailRoute)
class MailRouteAdmin(admin.ModelAdmin):
    """Where new mail tickets go (docs/email.md, "Routing"); the staff page at /desk/mail-routes/ does the same."""

    form = MailRouteAdminForm
    list_display = ("address", "keywords", "sender_organisation", "position", "service", "offering", "is_active")
    list_filter = ("is_active", "service")
    search_fields = ("address", "keywords", "service__name", "note")
    raw_id_fields = ("sender_organisation",)
    ordering = ("position", "address")
