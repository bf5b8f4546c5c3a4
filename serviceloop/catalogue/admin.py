from django.contrib import admin

from serviceloop.catalogue.models import CatalogueChange, Offering, OfferingComponent, Service, ValueItem


class OfferingInline(admin.TabularInline):
    model = Offering
    extra = 0
    fields = ["name", "slug", "target_group"]
    show_change_link = True


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "lifecycle", "criticality", "service_manager", "updated_at"]
    list_filter = ["lifecycle", "criticality"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ("name",)}
    list_select_related = ["service_manager"]
    inlines = [OfferingInline]


class ComponentInline(admin.TabularInline):
    model = OfferingComponent
    extra = 0
    fields = ["position", "kind", "name", "description"]


class ValueItemInline(admin.TabularInline):
    model = ValueItem
    extra = 0
    fields = ["position", "kind", "description", "financial", "estimate", "unit"]


@admin.register(Offering)
class OfferingAdmin(admin.ModelAdmin):
    list_display = ["name", "service", "target_group"]
    list_filter = ["service"]
    search_fields = ["name", "service__name", "target_group"]
    list_select_related = ["service"]
    inlines = [ComponentInline, ValueItemInline]


@admin.register(CatalogueChange)
class CatalogueChangeAdmin(admin.ModelAdmin):
    """Read-only: the history is written by the services, never by hand."""

    list_display = ["created_at", "by", "action", "object_type", "object_label", "service"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_label", "object_public_id"]
    list_select_related = ["by", "service"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
