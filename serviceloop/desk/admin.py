from django.contrib import admin

from serviceloop.desk.models import (
    BusinessCalendar,
    Holiday,
    InboundMail,
    PriorityRule,
    SlaEvent,
    SlaTarget,
    Team,
    Ticket,
)


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


@admin.register(SlaEvent)
class SlaEventAdmin(admin.ModelAdmin):
    list_display = ("ticket", "target", "kind", "at")
    list_filter = ("target", "kind")
    raw_id_fields = ("ticket",)


@admin.register(InboundMail)
class InboundMailAdmin(admin.ModelAdmin):
    list_display = ("received_at", "source", "from_email", "subject", "outcome", "reason", "ticket")
    list_filter = ("outcome", "source")
    search_fields = ("from_email", "subject", "email_message_id")
    raw_id_fields = ("ticket", "message")
