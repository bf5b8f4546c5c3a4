"""Django admin for operators: the event log read-only, the outbox with a retry for failed mail."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from serviceloop.core.errors import DomainError
from serviceloop.core.mail import mail_retry
from serviceloop.core.models import Event, EventDelivery, IdempotencyKey, OutgoingMail


class ReadOnlyAdmin(admin.ModelAdmin):
    """The audit trail is what happened: an operator may read it, never edit or delete it."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DeliveryInline(admin.TabularInline):
    model = EventDelivery
    extra = 0
    can_delete = False
    fields = ("subscriber", "status", "attempts", "last_attempt_at", "delivered_at", "last_error")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "name", "subject_type", "subject_label", "actor_label", "completed_at")
    list_filter = ("name", "subject_type")
    search_fields = ("subject_label", "actor_label", "public_id")
    date_hierarchy = "created_at"
    inlines = [DeliveryInline]


@admin.register(EventDelivery)
class EventDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("event", "subscriber", "status", "attempts", "last_attempt_at", "delivered_at")
    list_filter = ("status", "subscriber")
    search_fields = ("subscriber", "public_id")
    raw_id_fields = ("event",)
    list_select_related = ("event",)


@admin.action(description="Retry the selected failed mails")
def retry_failed_mails(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[OutgoingMail]) -> None:
    retried, skipped = 0, 0
    for mail in queryset.filter(status=OutgoingMail.Status.FAILED):
        try:
            mail_retry(mail=mail, by=request.user)
        except DomainError:
            skipped += 1  # sent or retried by someone else meanwhile
        else:
            retried += 1
    skipped += queryset.exclude(status=OutgoingMail.Status.FAILED).count()
    if retried:
        modeladmin.message_user(request, f"{retried} mail(s) queued again.", messages.SUCCESS)
    if skipped:
        modeladmin.message_user(request, f"{skipped} selected mail(s) had not failed and were left as they are.")


@admin.register(OutgoingMail)
class OutgoingMailAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "subject", "recipients", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("status",)
    search_fields = ("subject", "message_id", "public_id")
    date_hierarchy = "created_at"
    actions = [retry_failed_mails]

    @admin.display(description="to")
    def recipients(self, mail: OutgoingMail) -> str:
        return ", ".join(mail.to)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "scope", "key", "status_code")
    search_fields = ("scope", "key")
    exclude = ("body",)
