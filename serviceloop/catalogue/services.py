"""Every write to the catalogue: services, offerings, components and value items, each with its history.

Every create, update and delete writes one `CatalogueChange` row (who, when, per-field old → new),
in the same transaction as the change itself, so the history never misses or invents a change.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model, ProtectedError
from django.utils.text import slugify

from serviceloop.accounts.models import User
from serviceloop.accounts.versioning import version_check, version_claim
from serviceloop.catalogue.models import CatalogueChange, Offering, OfferingComponent, Service, ValueItem
from serviceloop.core.errors import ConflictError, InvalidInput, NotAllowed
from serviceloop.core.events import event_record

SERVICE_FIELDS = ("name", "slug", "description", "lifecycle", "criticality", "service_manager")
OFFERING_FIELDS = ("name", "slug", "target_group", "description")
COMPONENT_FIELDS = ("kind", "name", "description", "position")
VALUE_ITEM_FIELDS = ("kind", "description", "financial", "estimate", "unit", "position")
# Matches the model's max_digits=14, decimal_places=2.
MAX_ESTIMATE = Decimal("999999999999.99")


# -- helpers ---------------------------------------------------------------------------------------


def require_manager(by: User) -> None:
    if not getattr(by, "can_manage_services", False):
        raise NotAllowed("not_a_service_manager", "Only administrators and service managers may change the catalogue.")


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a field value, as the history panel shows it."""
    if isinstance(value, Model):
        return str(getattr(value, "email", None) or value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _snapshot(obj: Model, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    names = list(after) or list(before)
    return {name: [before.get(name), after.get(name)] for name in names if before.get(name) != after.get(name)}


def _record(
    *, service: Service | None, obj: Any, action: str, changes: dict[str, list[Any]], by: User | None
) -> CatalogueChange:
    return CatalogueChange.objects.create(
        service=service,
        object_type=type(obj).__name__,
        object_public_id=obj.public_id,
        object_label=str(obj)[:300],
        action=action,
        changes=changes,
        by=by,
    )


def _text(value: str, *, field: str, label: str, max_length: int, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"{field}_required", f"{label} is required.", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"{field}_too_long", f"{label} has at most {max_length} characters.", field=field)
    return value


def _choice(value: str, choices: Any, *, field: str, label: str) -> str:
    if value not in choices.values:
        raise InvalidInput(f"unknown_{field}", f"{label} must be one of: {', '.join(choices.values)}.", field=field)
    return value


def _slug(value: str, fallback: str) -> str:
    slug = slugify(value or fallback)[:80].strip("-")
    if not slug:
        raise InvalidInput("slug_invalid", "The slug needs at least one letter or digit.", field="slug")
    return slug


def _validate_manager(manager: User | None) -> User:
    if manager is None or manager.role not in (User.Role.SERVICE_MANAGER, User.Role.ADMINISTRATOR):
        raise InvalidInput(
            "service_manager_invalid",
            "The service manager must be a staff user with the role service manager or administrator.",
            field="service_manager",
        )
    if not manager.is_active:
        raise InvalidInput(
            "service_manager_inactive", "The service manager must be an active user.", field="service_manager"
        )
    return manager


def _save(
    obj: Model, *, slug_message: str, slug_given: bool = True, update_fields: Iterable[str] | None = None
) -> None:
    """Save, turning a slug clash into a 409 next to the field the user filled in.

    A slug derived from the name is the name's clash: the message says so next to the name.
    """
    try:
        with transaction.atomic():
            obj.save(update_fields=None if update_fields is None else [*update_fields, "updated_at"])
    except IntegrityError:
        if slug_given:
            raise ConflictError("slug_taken", slug_message, field="slug") from None
        raise ConflictError(
            "name_taken", f"{slug_message} Choose another name, or give a slug of your own.", field="name"
        ) from None


# -- services --------------------------------------------------------------------------------------


def service_create(
    *,
    by: User,
    name: str,
    service_manager: User | None,
    slug: str = "",
    description: str = "",
    lifecycle: str = Service.Lifecycle.PIPELINE,
    criticality: str = Service.Criticality.MEDIUM,
) -> Service:
    require_manager(by)
    service = Service(
        name=_text(name, field="name", label="A service name", max_length=200, required=True),
        description=description or "",
        lifecycle=_choice(lifecycle, Service.Lifecycle, field="lifecycle", label="Lifecycle"),
        criticality=_choice(criticality, Service.Criticality, field="criticality", label="Criticality"),
        service_manager=_validate_manager(service_manager),
    )
    service.slug = _slug(slug, service.name)
    with transaction.atomic():
        _save(service, slug_message=f"A service with the slug '{service.slug}' already exists.", slug_given=bool(slug))
        _record(
            service=service,
            obj=service,
            action=CatalogueChange.Action.CREATED,
            changes=_diff({}, _snapshot(service, SERVICE_FIELDS)),
            by=by,
        )
        event_record("service.created", subject=service, by=by, service_id=service.pk)
    return service


def service_update(
    *,
    service: Service,
    by: User,
    name: str | None = None,
    slug: str | None = None,
    description: str | None = None,
    lifecycle: str | None = None,
    criticality: str | None = None,
    service_manager: User | None = None,
    expected_version: Iterable[int] | None = None,
) -> Service:
    """Change a service. `expected_version`: the versions the editor saw (If-Match, the form's
    hidden field); another edit committed since then refuses this one (412). None: last writer wins."""
    require_manager(by)
    before = _snapshot(service, SERVICE_FIELDS)
    if name is not None:
        service.name = _text(name, field="name", label="A service name", max_length=200, required=True)
    if slug is not None:
        service.slug = _slug(slug, service.name)
    if description is not None:
        service.description = description
    if lifecycle is not None:
        service.lifecycle = _choice(lifecycle, Service.Lifecycle, field="lifecycle", label="Lifecycle")
    if criticality is not None:
        service.criticality = _choice(criticality, Service.Criticality, field="criticality", label="Criticality")
    if service_manager is not None:
        service.service_manager = _validate_manager(service_manager)
    changes = _diff(before, _snapshot(service, SERVICE_FIELDS))
    if not changes:
        version_check(service, expected=expected_version, noun="service")
        return service
    with transaction.atomic():
        version_claim(service, expected=expected_version, noun="service")
        # Only the changed fields: an edit without If-Match keeps another editor's other fields.
        _save(
            service,
            slug_message=f"A service with the slug '{service.slug}' already exists.",
            update_fields=changes,
        )
        _record(service=service, obj=service, action=CatalogueChange.Action.UPDATED, changes=changes, by=by)
        retired = "lifecycle" in changes and service.lifecycle == Service.Lifecycle.RETIRED
        event_record(
            "service.retired" if retired else "service.updated",
            subject=service,
            by=by,
            service_id=service.pk,
            changed=sorted(changes),
        )
    return service


def service_delete(*, service: Service, by: User) -> None:
    require_manager(by)
    try:
        with transaction.atomic():
            _record(
                service=service,
                obj=service,
                action=CatalogueChange.Action.DELETED,
                changes=_diff(_snapshot(service, SERVICE_FIELDS), {}),
                by=by,
            )
            event_record("service.deleted", subject=service, by=by, service_id=service.pk)
            service.delete()
    except ProtectedError:
        raise ConflictError(
            "service_in_use",
            "Organisations consume offerings of this service; end those relationships or retire the service instead.",
        ) from None


# -- offerings -------------------------------------------------------------------------------------


def offering_create(
    *, service: Service, by: User, name: str, slug: str = "", target_group: str = "", description: str = ""
) -> Offering:
    require_manager(by)
    offering = Offering(
        service=service,
        name=_text(name, field="name", label="An offering name", max_length=200, required=True),
        target_group=_text(target_group, field="target_group", label="The target group", max_length=200),
        description=description or "",
    )
    offering.slug = _slug(slug, offering.name)
    with transaction.atomic():
        _save(
            offering,
            slug_message=f"{service.name} already has an offering with the slug '{offering.slug}'.",
            slug_given=bool(slug),
        )
        _record(
            service=service,
            obj=offering,
            action=CatalogueChange.Action.CREATED,
            changes=_diff({}, _snapshot(offering, OFFERING_FIELDS)),
            by=by,
        )
        event_record("offering.created", subject=offering, by=by, offering_id=offering.pk, service_id=service.pk)
    return offering


def offering_update(
    *,
    offering: Offering,
    by: User,
    name: str | None = None,
    slug: str | None = None,
    target_group: str | None = None,
    description: str | None = None,
    expected_version: Iterable[int] | None = None,
) -> Offering:
    """Change an offering; `expected_version` as in `service_update`."""
    require_manager(by)
    before = _snapshot(offering, OFFERING_FIELDS)
    if name is not None:
        offering.name = _text(name, field="name", label="An offering name", max_length=200, required=True)
    if slug is not None:
        offering.slug = _slug(slug, offering.name)
    if target_group is not None:
        offering.target_group = _text(target_group, field="target_group", label="The target group", max_length=200)
    if description is not None:
        offering.description = description
    changes = _diff(before, _snapshot(offering, OFFERING_FIELDS))
    if not changes:
        version_check(offering, expected=expected_version, noun="offering")
        return offering
    with transaction.atomic():
        version_claim(offering, expected=expected_version, noun="offering")
        _save(
            offering,
            slug_message=f"{offering.service.name} already has an offering with the slug '{offering.slug}'.",
            update_fields=changes,
        )
        _record(service=offering.service, obj=offering, action=CatalogueChange.Action.UPDATED, changes=changes, by=by)
        event_record(
            "offering.updated",
            subject=offering,
            by=by,
            offering_id=offering.pk,
            service_id=offering.service_id,
            changed=sorted(changes),
        )
    return offering


def offering_delete(*, offering: Offering, by: User) -> None:
    require_manager(by)
    try:
        with transaction.atomic():
            _record(
                service=offering.service,
                obj=offering,
                action=CatalogueChange.Action.DELETED,
                changes=_diff(_snapshot(offering, OFFERING_FIELDS), {}),
                by=by,
            )
            event_record("offering.deleted", subject=offering, by=by, offering_id=offering.pk)
            offering.delete()
    except ProtectedError:
        raise ConflictError(
            "offering_in_use", "Organisations consume this offering; end their relationships before deleting it."
        ) from None


# -- components ------------------------------------------------------------------------------------


def component_create(
    *, offering: Offering, by: User, kind: str, name: str, description: str = "", position: int | None = None
) -> OfferingComponent:
    require_manager(by)
    component = OfferingComponent(
        offering=offering,
        kind=_choice(kind, OfferingComponent.Kind, field="kind", label="Kind"),
        name=_text(name, field="name", label="A component name", max_length=200, required=True),
        description=description or "",
        position=position if position is not None else offering.components.count(),
    )
    with transaction.atomic():
        component.save()
        _record(
            service=offering.service,
            obj=component,
            action=CatalogueChange.Action.CREATED,
            changes=_diff({}, _snapshot(component, COMPONENT_FIELDS)),
            by=by,
        )
        event_record("component.created", subject=component, by=by, offering_id=offering.pk)
    return component


def component_update(
    *,
    component: OfferingComponent,
    by: User,
    kind: str | None = None,
    name: str | None = None,
    description: str | None = None,
    position: int | None = None,
) -> OfferingComponent:
    require_manager(by)
    before = _snapshot(component, COMPONENT_FIELDS)
    if kind is not None:
        component.kind = _choice(kind, OfferingComponent.Kind, field="kind", label="Kind")
    if name is not None:
        component.name = _text(name, field="name", label="A component name", max_length=200, required=True)
    if description is not None:
        component.description = description
    if position is not None:
        component.position = position
    changes = _diff(before, _snapshot(component, COMPONENT_FIELDS))
    if changes:
        with transaction.atomic():
            component.save()
            _record(
                service=component.offering.service,
                obj=component,
                action=CatalogueChange.Action.UPDATED,
                changes=changes,
                by=by,
            )
            event_record(
                "component.updated",
                subject=component,
                by=by,
                offering_id=component.offering_id,
                changed=sorted(changes),
            )
    return component


def component_delete(*, component: OfferingComponent, by: User) -> None:
    require_manager(by)
    with transaction.atomic():
        _record(
            service=component.offering.service,
            obj=component,
            action=CatalogueChange.Action.DELETED,
            changes=_diff(_snapshot(component, COMPONENT_FIELDS), {}),
            by=by,
        )
        event_record("component.deleted", subject=component, by=by, offering_id=component.offering_id)
        component.delete()


# -- value items -----------------------------------------------------------------------------------


def _estimate(value: Decimal | float | int | str | None) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        estimate = Decimal(str(value)).quantize(Decimal("0.01"))
    except ArithmeticError:
        raise InvalidInput("estimate_invalid", "The estimate must be a number.", field="estimate") from None
    if not estimate.is_finite():
        raise InvalidInput("estimate_invalid", "The estimate must be a number.", field="estimate")
    if estimate < 0:
        raise InvalidInput(
            "estimate_negative",
            "An estimate is a size, never negative; say in the kind whether it is removed or imposed.",
            field="estimate",
        )
    if estimate > MAX_ESTIMATE:
        raise InvalidInput("estimate_too_large", f"The estimate is at most {MAX_ESTIMATE}.", field="estimate")
    return estimate


def value_item_create(
    *,
    offering: Offering,
    by: User,
    kind: str,
    description: str,
    financial: bool = False,
    estimate: Decimal | float | int | str | None = None,
    unit: str = "",
    position: int | None = None,
) -> ValueItem:
    require_manager(by)
    item = ValueItem(
        offering=offering,
        kind=_choice(kind, ValueItem.Kind, field="kind", label="Kind"),
        description=_text(description, field="description", label="A description", max_length=500, required=True),
        financial=bool(financial),
        estimate=_estimate(estimate),
        unit=_text(unit, field="unit", label="The unit", max_length=50),
        position=position if position is not None else offering.value_items.filter(kind=kind).count(),
    )
    with transaction.atomic():
        item.save()
        _record(
            service=offering.service,
            obj=item,
            action=CatalogueChange.Action.CREATED,
            changes=_diff({}, _snapshot(item, VALUE_ITEM_FIELDS)),
            by=by,
        )
        event_record("value_item.created", subject=item, by=by, offering_id=offering.pk)
    return item


_UNSET: Any = object()


def value_item_update(
    *,
    item: ValueItem,
    by: User,
    kind: str | None = None,
    description: str | None = None,
    financial: bool | None = None,
    estimate: Any = _UNSET,
    unit: str | None = None,
    position: int | None = None,
) -> ValueItem:
    """Change a value item; pass `estimate=None` to clear the estimate, leave it out to keep it."""
    require_manager(by)
    before = _snapshot(item, VALUE_ITEM_FIELDS)
    if kind is not None:
        item.kind = _choice(kind, ValueItem.Kind, field="kind", label="Kind")
    if description is not None:
        item.description = _text(description, field="description", label="A description", max_length=500, required=True)
    if financial is not None:
        item.financial = financial
    if estimate is not _UNSET:
        item.estimate = _estimate(estimate)
    if unit is not None:
        item.unit = _text(unit, field="unit", label="The unit", max_length=50)
    if position is not None:
        item.position = position
    changes = _diff(before, _snapshot(item, VALUE_ITEM_FIELDS))
    if changes:
        with transaction.atomic():
            item.save()
            _record(
                service=item.offering.service, obj=item, action=CatalogueChange.Action.UPDATED, changes=changes, by=by
            )
            event_record(
                "value_item.updated", subject=item, by=by, offering_id=item.offering_id, changed=sorted(changes)
            )
    return item


def value_item_delete(*, item: ValueItem, by: User) -> None:
    require_manager(by)
    with transaction.atomic():
        _record(
            service=item.offering.service,
            obj=item,
            action=CatalogueChange.Action.DELETED,
            changes=_diff(_snapshot(item, VALUE_ITEM_FIELDS), {}),
            by=by,
        )
        event_record("value_item.deleted", subject=item, by=by, offering_id=item.offering_id)
        item.delete()
