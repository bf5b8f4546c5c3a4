"""Mail routes: which service a new mail ticket opens on, and the staff's writes to the routes.

A new mail ticket's service is chosen in this order (`mail_route_choose`):

1. the address it was sent to: the envelope recipients a receiving server records (Delivered-To,
   X-Original-To, Envelope-To), then To, then Cc, each matched against the address routes; an
   address with a plus tag (`payroll+urgent@…`) also matches its route without the tag
   (`payroll@…`), and the desk's own address with a tag (`desk+payroll@…`) the service whose slug is
   the tag;
2. the rules, by position: keywords at the start of a word of the subject or body, the sender's
   organisation, or both;
3. SERVICELOOP_MAIL_DEFAULT_SERVICE;
4. the organisation's first live service.

A route applies only when the requester's organisation consumes its service and the service is
live; otherwise the next is tried, and the reason is kept. The outcome says which route chose and
which were passed over, for the inbound-mail log and the ticket's history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.errors import ConflictError, InvalidInput, NotAllowed
from serviceloop.core.events import event_record
from serviceloop.desk.mail_out import desk_address
from serviceloop.desk.mail_parse import ParsedMail
from serviceloop.desk.models import MailRoute
from serviceloop.desk.services.tickets import services_consumed_by

ENVELOPE_HEADERS = ("delivered-to", "x-original-to", "envelope-to")
# A mail names at most this many recipients worth trying; the rest cannot change the choice.
MAX_RECIPIENTS = 50
KEYWORDS_MAX = 500
# Only the header block is read, and never more of it than this.
HEADER_BYTES = 256 * 1024


@dataclass(frozen=True)
class Routing:
    """The service a new mail ticket opens on, the route that chose it, and the routes passed over."""

    service: Service | None
    offering: Offering | None
    chosen_by: str
    passed_over: list[str] = field(default_factory=list)

    @property
    def explanation(self) -> str:
        text = self.chosen_by
        if self.passed_over:
            text += "; passed over: " + "; ".join(self.passed_over)
        return text[:500]


# ---------------------------------------------------------------- choosing


def _address(value: str) -> str:
    return value.strip().strip("<>").strip().lower()


def envelope_recipients(raw: bytes) -> list[str]:
    """The addresses receiving servers recorded the mail was delivered to (top header first)."""
    head = bytes(raw[:HEADER_BYTES]).split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    message = BytesHeaderParser(policy=compat32).parsebytes(head)
    found: list[str] = []
    for name in ENVELOPE_HEADERS:
        values = [str(value) for value in message.get_all(name) or []]
        found += [address for _, address in getaddresses(values)]
    return found


def mail_recipients(mail: ParsedMail, raw: bytes = b"") -> list[str]:
    """Every address the mail was sent to, best evidence first: the envelope, then To, then Cc."""
    candidates = [*envelope_recipients(raw), *mail.to, *mail.cc] if raw else [*mail.to, *mail.cc]
    unique = dict.fromkeys(a for a in (_address(c) for c in candidates) if "@" in a)
    return list(unique)[:MAX_RECIPIENTS]


def _without_tag(address: str) -> tuple[str, str]:
    """("payroll@x", "urgent") for "payroll+urgent@x"; the tag is empty without one."""
    local, _, domain = address.rpartition("@")
    base, plus, tag = local.partition("+")
    return (f"{base}@{domain}", tag) if plus else (address, "")


@dataclass
class _Consumed:
    """What the requester's organisation consumes, by service."""

    offerings: dict[int, list[Offering]]

    @classmethod
    def of(cls, organisation_id: int) -> _Consumed:
        offerings: dict[int, list[Offering]] = {}
        for offering in services_consumed_by(organisation_id):
            offerings.setdefault(offering.service_id, []).append(offering)
        return cls(offerings)

    def refusal(self, service: Service, organisation: Organisation) -> str:
        """Why a route to `service` cannot apply to this organisation's mail ("" when it can)."""
        if service.pk not in self.offerings:
            return f"{organisation} does not consume {service.name}"
        if service.lifecycle != Service.Lifecycle.LIVE:
            return f"{service.name} is not live"
        return ""

    def offering(self, route: MailRoute) -> Offering | None:
        consumed = self.offerings.get(route.service_id, [])
        if route.offering_id is not None:
            return next((o for o in consumed if o.pk == route.offering_id), None)
        return None


def _by_address(
    recipients: list[str], consumed: _Consumed, organisation: Organisation, passed: list[str]
) -> Routing | None:
    if not recipients:
        return None
    bases = {address: _without_tag(address) for address in recipients}
    wanted = set(recipients) | {base for base, tag in bases.values() if tag}
    routes = {
        r.address: r
        for r in MailRoute.objects.select_related("service", "offering").filter(address__in=wanted, is_active=True)
    }
    desk = desk_address().strip().lower()
    tags = {tag for address, (base, tag) in bases.items() if tag and base == desk and address not in routes}
    by_slug = {s.slug: s for s in Service.objects.filter(slug__in=tags)} if tags else {}
    for address in recipients:
        base, tag = bases[address]
        route = routes.get(address) or (routes.get(base) if tag else None)
        if route is not None:
            shown = address if route.address == address else f"{address} (as {route.address})"
            refusal = consumed.refusal(route.service, organisation)
            if refusal:
                passed.append(f"address {shown}: {refusal}")
                continue
            return Routing(route.service, consumed.offering(route), f"address {shown} → {route.service.name}", passed)
        service = by_slug.get(tag) if tag and base == desk else None
        if service is not None:
            refusal = consumed.refusal(service, organisation)
            if refusal:
                passed.append(f"address {address}: {refusal}")
                continue
            return Routing(service, None, f"address {address} (tag {tag}) → {service.name}", passed)
    return None


def _keyword_found(words: list[str], text: str) -> str:
    for word in words:
        if re.search(r"(?<!\w)" + re.escape(word), text):
            return word
    return ""


def _by_rule(mail: ParsedMail, consumed: _Consumed, organisation: Organisation, passed: list[str]) -> Routing | None:
    rules = MailRoute.objects.select_related("service", "offering", "sender_organisation").filter(
        address="", is_active=True
    )
    text = f"{mail.subject}\n{mail.body_text or mail.full_text}".lower()
    for rule in rules.order_by("position", "pk"):
        if rule.sender_organisation_id is not None and rule.sender_organisation_id != organisation.pk:
            continue
        reasons = []
        if rule.keyword_list:
            word = _keyword_found(rule.keyword_list, text)
            if not word:
                continue
            reasons.append(f"keyword “{word}”")
        if rule.sender_organisation_id is not None:
            reasons.append(f"sender of {organisation}")
        shown = f"rule {rule.position} ({', '.join(reasons)})"
        refusal = consumed.refusal(rule.service, organisation)
        if refusal:
            passed.append(f"{shown}: {refusal}")
            continue
        return Routing(rule.service, consumed.offering(rule), f"{shown} → {rule.service.name}", passed)
    return None


def _by_default(consumed: _Consumed, organisation: Organisation, passed: list[str]) -> Routing:
    slug = settings.SERVICELOOP_MAIL_DEFAULT_SERVICE
    live = [
        offerings[0].service
        for offerings in consumed.offerings.values()
        if offerings[0].service.lifecycle == Service.Lifecycle.LIVE
    ]
    if slug:
        service = next((s for s in live if s.slug == slug), None)
        if service is not None:
            return Routing(service, None, f"the default service ({slug}) → {service.name}", passed)
        passed.append(f"the default service ({slug}): {organisation} does not consume it, or it is not live")
    if not live:
        return Routing(None, None, f"{organisation} consumes no live service", passed)
    # services_consumed_by orders by service name: the first live one, as before routes existed.
    service = live[0]
    return Routing(service, None, f"the organisation's first live service → {service.name}", passed)


def mail_route_choose(*, mail: ParsedMail, organisation_id: int, raw: bytes = b"") -> Routing:
    """The service a new mail ticket of this organisation opens on, and why (read-only)."""
    organisation = Organisation.objects.get(pk=organisation_id)
    consumed = _Consumed.of(organisation_id)
    passed: list[str] = []
    return (
        _by_address(mail_recipients(mail, raw), consumed, organisation, passed)
        or _by_rule(mail, consumed, organisation, passed)
        or _by_default(consumed, organisation, passed)
    )


def desk_addresses() -> set[str]:
    """The desk's own address and every route address: mail from one of them is a loop."""
    routes = MailRoute.objects.exclude(address="").values_list("address", flat=True)
    return {desk_address().strip().lower(), *routes}


# ---------------------------------------------------------------- staff writes


@dataclass(frozen=True)
class RouteFields:
    """What staff set on a route (the form and the API)."""

    service: Service
    offering: Offering | None = None
    address: str = ""
    keywords: str = ""
    sender_organisation: Organisation | None = None
    position: int = 100
    is_active: bool = True
    note: str = ""


def _require_manager(by: User) -> None:
    if not getattr(by, "can_manage_services", False):
        raise NotAllowed("managers_only", "Only administrators and service managers may change mail routes.")


def normalise_address(value: str) -> str:
    address = _address(value.replace("\x00", ""))
    if not address:
        return ""
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidInput(
            "invalid_address", f"“{value.strip()[:100]}” is not an email address.", field="address"
        ) from None
    return address


def normalise_keywords(value: str) -> str:
    words = [w.strip().lower() for w in value.replace("\x00", "").replace("\n", ",").split(",")]
    text = ", ".join(dict.fromkeys(w for w in words if w))
    if len(text) > KEYWORDS_MAX:
        raise InvalidInput(
            "keywords_too_long", f"Keywords have at most {KEYWORDS_MAX} characters together.", field="keywords"
        )
    return text


def _checked(data: RouteFields, *, route: MailRoute | None) -> RouteFields:
    address = normalise_address(data.address)
    keywords = normalise_keywords(data.keywords)
    if address and (keywords or data.sender_organisation is not None):
        raise InvalidInput(
            "address_or_rule",
            "A route matches an address or a rule (keywords, sender organisation), not both: make two routes.",
            field="address",
        )
    if not (address or keywords or data.sender_organisation is not None):
        raise InvalidInput(
            "route_matches_nothing", "Give the route an address, keywords or a sender organisation.", field="address"
        )
    if data.offering is not None and data.offering.service_id != data.service.pk:
        raise InvalidInput("offering_not_of_service", "That offering belongs to another service.", field="offering")
    if data.service.lifecycle == Service.Lifecycle.RETIRED:
        raise InvalidInput(
            "service_retired", f"{data.service.name} is retired; route to a live service.", field="service"
        )
    if not 0 <= data.position <= 1_000_000:
        raise InvalidInput("position_out_of_range", "The position is a number from 0 to 1,000,000.", field="position")
    if address:
        clash = MailRoute.objects.filter(address=address)
        if route is not None:
            clash = clash.exclude(pk=route.pk)
        other = clash.select_related("service").first()
        if other is not None:
            raise ConflictError(
                "duplicate_address", f"{address} already routes to {other.service.name}.", field="address"
            )
    note = data.note.replace("\x00", "").strip()[:200]
    return RouteFields(
        service=data.service,
        offering=data.offering,
        address=address,
        keywords=keywords,
        sender_organisation=data.sender_organisation,
        position=data.position,
        is_active=data.is_active,
        note=note,
    )


def _save(route: MailRoute, data: RouteFields) -> MailRoute:
    for name in ("service", "offering", "address", "keywords", "sender_organisation", "position", "is_active", "note"):
        setattr(route, name, getattr(data, name))
    try:
        with transaction.atomic():
            route.save()
    except IntegrityError:
        # Another route took the address between the check and the write.
        raise ConflictError("duplicate_address", f"{data.address} already has a route.", field="address") from None
    return route


def mail_route_create(*, by: User, data: RouteFields) -> MailRoute:
    _require_manager(by)
    with transaction.atomic():
        route = _save(MailRoute(), _checked(data, route=None))
        event_record("mail_route.created", subject=route, by=by, route_id=route.pk, service_id=route.service_id)
    return route


def mail_route_update(*, route: MailRoute, by: User, data: RouteFields) -> MailRoute:
    _require_manager(by)
    with transaction.atomic():
        route = MailRoute.objects.select_for_update().get(pk=route.pk)
        route = _save(route, _checked(data, route=route))
        event_record("mail_route.changed", subject=route, by=by, route_id=route.pk, service_id=route.service_id)
    return route


def mail_route_delete(*, route: MailRoute, by: User) -> None:
    _require_manager(by)
    with transaction.atomic():
        event_record("mail_route.deleted", subject=route, by=by, route_id=route.pk, service_id=route.service_id)
        route.delete()
