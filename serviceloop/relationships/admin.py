from django.contrib import admin

from serviceloop.relationships.models import Person, Relationship, RelationshipEvent, RelationshipRole


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "organisation", "time_zone", "survey_opt_out"]
    list_filter = ["survey_opt_out", "organisation"]
    search_fields = ["name", "email"]
    list_select_related = ["organisation"]
    raw_id_fields = ["user"]


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
