"""The demo's twelve months of tickets: a realistic mix that agrees with the SLA task."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from serviceloop.accounts import demo as accounts_demo
from serviceloop.catalogue import demo as catalogue_demo
from serviceloop.core.demo import DemoContext
from serviceloop.desk import demo as desk_demo
from serviceloop.desk.models import SlaEvent, Ticket
from serviceloop.desk.services import sla_check
from serviceloop.relationships import demo as relationships_demo


def test_demo_has_a_year_of_tickets_with_breaches_and_reopenings(db: Any) -> None:
    ctx = DemoContext(seed=7, now=timezone.now().replace(microsecond=0))
    for module in (accounts_demo, catalogue_demo, relationships_demo, desk_demo):
        module.load(ctx)
    tickets = Ticket.objects.all()
    assert tickets.count() >= 3500
    assert {t for (t,) in tickets.values_list("type").distinct()} == set(Ticket.Type.values)
    assert (ctx.now - tickets.order_by("opened_at").first().opened_at).days >= 300  # type: ignore[union-attr]
    assert tickets.filter(reopen_count__gt=0).count() > 100
    breaches = SlaEvent.objects.filter(kind="breached").count()
    assert 0.05 * tickets.count() < breaches < 0.5 * tickets.count()
    assert tickets.filter(status__in=Ticket.ACTIVE).exists()
    # The demo's SLA events are exactly what the periodic task would have recorded.
    assert sla_check(now=timezone.now()) == 0


def test_demo_history_is_in_the_event_log_and_owes_nobody_anything(db: Any) -> None:
    from serviceloop.core.models import Event, EventDelivery, OutgoingMail

    ctx = DemoContext(seed=7, now=timezone.now().replace(microsecond=0))
    for module in (accounts_demo, catalogue_demo, relationships_demo, desk_demo):
        module.load(ctx)
    ticket = Ticket.objects.filter(reopen_count__gt=0).first()
    assert ticket is not None
    names = set(Event.objects.filter(subject_type="desk.ticket", subject_id=ticket.pk).values_list("name", flat=True))
    assert {"ticket.created", "ticket.resolved", "ticket.reopened", "ticket.history_recorded"} <= names
    # The requester who opened it is named, though they have no login.
    opened = Event.objects.get(name="ticket.created", subject_id=ticket.pk)
    assert opened.actor_label == ticket.requester.email
    # Historical events are complete: loading the demo mails nobody and leaves the sweep nothing to do.
    assert not Event.objects.filter(completed_at__isnull=True).exists()
    assert not EventDelivery.objects.exists() and not OutgoingMail.objects.exists()


def test_demo_mail_to_the_payroll_address_lands_on_payroll(db: Any) -> None:
    from serviceloop.desk.mail_out import mail_domain
    from serviceloop.desk.models import MailRoute
    from serviceloop.desk.services.mail_in import mail_receive
    from serviceloop.desk.tests.mail_factories import raw_mail
    from serviceloop.relationships.models import Person, Relationship

    ctx = DemoContext(seed=7, now=timezone.now().replace(microsecond=0))
    for module in (accounts_demo, catalogue_demo, relationships_demo, desk_demo):
        module.load(ctx)
    assert MailRoute.objects.filter(address=f"payroll@{mail_domain()}", service__slug="payroll").exists()
    consumers = Relationship.objects.filter(status="active", offering__service__slug="payroll").values(
        "organisation_id"
    )
    person = Person.objects.filter(organisation_id__in=consumers).exclude(email="").order_by("pk").first()
    assert person is not None
    shared = mail_receive(
        raw=raw_mail(sender=person.email, to=f"desk@{mail_domain()}", subject="My payslip is wrong"),
        source="webhook",
    )
    addressed = mail_receive(
        raw=raw_mail(sender=person.email, to=f"payroll@{mail_domain()}", subject="A question"), source="webhook"
    )
    assert shared.ticket is not None and shared.ticket.service.slug == "payroll"
    assert shared.log.route.startswith("rule 10 (keyword “payslip”)")
    assert addressed.ticket is not None and addressed.ticket.service.slug == "payroll"
    assert addressed.log.route == f"address payroll@{mail_domain()} → Payroll"
