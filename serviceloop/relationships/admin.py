from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from serviceloop.core.events import event_record
from serviceloop.relationships.models import Person, Relationship, RelationshipEvent, RelationshipRole


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "organisation", "time_zone", "survey_opt_out"]
    list_filter = ["survey_opt_out", "organisation"]
    search_fields = ["name", "email"]
    list_select_related = ["organisation"]
    raw_id_fields = ["user"]

    def save_model(self, request: HttpRequest, obj: Person, form: Any, change: bool) -> None:
        # An operator's edit is recorded like the service's, so the desk's search follows a new name or email.
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and form.changed_data:
                event_record(
                    "person.updated", subject=obj, by=request.user, person_id=obj.pk, changed=sorted(form.changed_data)
                )


class RoleInline(admin.TabularInline):
    model = RelationshipRole
    extra = 0
    raw_id_fields = ["person"]


class EventInline(admin.TabularInline):
    model = RelationshipEvent
    extra = 0
    fields = ["occurred_at", "kind", "description", "by"]
    readonly_fields = ["occurred_at", "kind", "description", "by"]
    can_delete = False


@admin.register(Relationship)
class RelationshipAdmin(admin.ModelAdmin):
    list_display = ["organisation", "offering", "status", "started_on", "ended_on"]
    list_filter = ["status", "offering__service"]
    search_fields = ["organisation__name", "offering__name", "offering__service__name"]
    list_select_related = ["organisation", "offering__service"]
    inlines = [RoleInline, EventInline]
