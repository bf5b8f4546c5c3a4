"""Demo catalogue: IT and non-IT services, each offering with components and a complete value model.

Every value model names every kind (outcome, output, cost and risk removed and imposed), financial
and non-financial lines, with estimates and units a service manager would recognise.
"""

from __future__ import annotations

from typing import Any

from serviceloop.catalogue.models import Offering, Service
from serviceloop.catalogue.services import component_create, offering_create, service_create, value_item_create
from serviceloop.core.demo import DemoContext

# (kind, description, financial, estimate, unit)
V = tuple[str, str, bool, str | None, str]

SERVICES: list[dict[str, Any]] = [
    {
        "name": "Email & collaboration",
        "description": "Mailboxes, calendars, shared drives and chat for everyone in your organisation.",
        "criticality": "high",
        "offerings": [
            {
                "name": "Standard mailbox",
                "target_group": "Office staff of client organisations",
                "components": [
                    ("access", "50 GB mailbox and calendar"),
                    ("access", "1 TB shared drive"),
                    ("action", "Mailbox set-up and migration"),
                    ("action", "Spam and phishing filtering"),
                ],
                "value": [
                    ("outcome", "People reach colleagues and clients from any device", False, None, ""),
                    ("output", "Mail delivered and filtered", False, "99.9", "% of messages within 1 minute"),
                    (
                        "cost_removed",
                        "No mail servers to buy, patch and back up",
                        True,
                        "9.00",
                        "EUR per user per month",
                    ),
                    ("cost_removed", "No mail administrator on call", False, "6", "hours per week"),
                    ("risk_removed", "Lost mail after a disk failure", False, None, "daily backups kept 30 days"),
                    ("risk_removed", "Phishing reaching the inbox", False, "95", "% caught before delivery"),
                    ("cost_imposed", "Subscription fee", True, "6.50", "EUR per mailbox per month"),
                    ("cost_imposed", "Time to learn the new web client", False, "2", "hours per person, once"),
                    ("risk_imposed", "Dependence on our data centre's connectivity", False, None, ""),
                ],
            },
            {
                "name": "Shared team mailbox",
                "target_group": "Teams answering customers together",
                "components": [("access", "Shared mailbox with delegated access"), ("action", "Monthly access review")],
                "value": [
                    ("outcome", "Customers get one answer from the team, not three", False, None, ""),
                    ("output", "Access reviewed every month", False, "12", "reviews per year"),
                    (
                        "cost_removed",
                        "No duplicate licences for shared addresses",
                        True,
                        "4.00",
                        "EUR per member per month",
                    ),
                    ("risk_removed", "Leavers keeping access to team mail", False, None, ""),
                    ("cost_imposed", "Fee per shared mailbox", True, "3.00", "EUR per month"),
                    ("risk_imposed", "Replies sent twice when two people answer", False, None, ""),
                ],
            },
        ],
    },
    {
        "name": "VPN remote access",
        "description": "Secure access to your internal systems from home and on the road.",
        "criticality": "high",
        "offerings": [
            {
                "name": "Remote worker VPN",
                "target_group": "Staff working from home or travelling",
                "components": [
                    ("goods", "VPN client licence"),
                    ("access", "VPN gateway with multi-factor sign-in"),
                    ("action", "Client installation on request"),
                ],
                "value": [
                    ("outcome", "People work from home as if in the office", False, None, ""),
                    ("output", "Secure tunnel available", False, "99.5", "% of business hours"),
                    ("cost_removed", "No gateway hardware or licences to own", True, "1800", "EUR per year"),
                    ("risk_removed", "Internal systems exposed to the internet", False, None, ""),
                    ("cost_imposed", "Fee per user", True, "4.00", "EUR per user per month"),
                    ("cost_imposed", "Sign-in with a second factor each day", False, "1", "minute per day"),
                    ("risk_imposed", "Slower connections on weak home broadband", False, None, ""),
                ],
            }
        ],
    },
    {
        "name": "Laptop provisioning",
        "description": "Ready-to-work laptops delivered, set up, repaired and recycled.",
        "criticality": "medium",
        "offerings": [
            {
                "name": "Standard laptop",
                "target_group": "New joiners and staff due a refresh",
                "components": [
                    ("goods", "14-inch business laptop with docking station"),
                    ("action", "Imaging, encryption and delivery to the desk"),
                    ("action", "Next-business-day repair or swap"),
                    ("action", "Secure wipe and recycling at end of life"),
                ],
                "value": [
                    ("outcome", "New joiners productive on their first day", False, None, ""),
                    ("output", "Laptop delivered ready to use", False, "3", "business days from order"),
                    ("cost_removed", "No up-front purchase", True, "1400", "EUR per laptop"),
                    ("cost_removed", "No time spent installing software", False, "4", "hours per laptop"),
                    ("risk_removed", "Data left on discarded laptops", False, None, "certified wipe"),
                    ("risk_removed", "A broken laptop stopping work for days", False, "1", "business day to swap"),
                    ("cost_imposed", "Monthly lease", True, "45.00", "EUR per laptop per month"),
                    ("cost_imposed", "Ordering lead time to plan ahead", False, "3", "business days"),
                    ("risk_imposed", "Only the standard software image is supported", False, None, ""),
                ],
            },
            {
                "name": "Developer workstation",
                "target_group": "Software and data teams",
                "components": [("goods", "32 GB laptop with two monitors"), ("access", "Local administrator rights")],
                "value": [
                    ("outcome", "Developers build and test locally without waiting", False, None, ""),
                    ("output", "Workstation delivered with tool chain", False, "5", "business days from order"),
                    ("cost_removed", "No hardware budget to manage", True, "2600", "EUR per workstation"),
                    ("risk_removed", "Unencrypted source code on lost devices", False, None, ""),
                    ("cost_imposed", "Monthly lease", True, "85.00", "EUR per workstation per month"),
                    ("risk_imposed", "Administrator rights must be used responsibly", False, None, ""),
                ],
            },
        ],
    },
    {
        "name": "Payroll",
        "description": "Monthly payroll, payslips, tax filings and year-end statements.",
        "criticality": "critical",
        "offerings": [
            {
                "name": "Monthly payroll run",
                "target_group": "HR and finance departments",
                "components": [
                    ("action", "Payroll calculation and bank file"),
                    ("access", "Employee self-service payslip portal"),
                    ("action", "Monthly tax and social security filing"),
                ],
                "value": [
                    ("outcome", "Everyone is paid correctly and on time", False, None, ""),
                    ("output", "Payslips published", False, "2", "days before pay day"),
                    ("cost_removed", "No payroll software licence", True, "12000", "EUR per year"),
                    ("cost_removed", "No payroll clerk time at month end", False, "3", "days per month"),
                    ("risk_removed", "Late filing penalties", True, "500", "EUR per late filing"),
                    ("cost_imposed", "Fee per payslip", True, "7.50", "EUR per payslip"),
                    (
                        "cost_imposed",
                        "Changes must reach us by the cut-off",
                        False,
                        "5",
                        "business days before pay day",
                    ),
                    ("risk_imposed", "Late changes move to the next month's run", False, None, ""),
                ],
            }
        ],
    },
    {
        "name": "Ride booking",
        "description": "Business rides booked from an app, billed monthly to your organisation.",
        "criticality": "medium",
        "offerings": [
            {
                "name": "Business rides",
                "target_group": "Staff travelling to clients and airports",
                "components": [
                    ("access", "Booking app and web portal"),
                    ("action", "Ride with a vetted driver"),
                    ("action", "Monthly invoice per cost centre"),
                ],
                "value": [
                    ("outcome", "People arrive at meetings on time, without driving", False, None, ""),
                    ("output", "Car at the door", False, "10", "minutes average pick-up in cities"),
                    ("cost_removed", "No pool cars to buy, insure and maintain", True, "6500", "EUR per car per year"),
                    ("cost_removed", "No expense claims for taxis", False, "15", "minutes per trip"),
                    ("risk_removed", "Accidents in own vehicles", False, None, "insured by the operator"),
                    ("cost_imposed", "Fare per ride", True, "2.10", "EUR per km"),
                    ("cost_imposed", "A smartphone with a data plan", True, "15.00", "EUR per month"),
                    ("cost_imposed", "Time spent booking and waiting", False, "8", "minutes per ride"),
                    ("risk_imposed", "Surge waiting times at peak hours", False, "25", "minutes at worst"),
                ],
            },
            {
                "name": "Airport rides",
                "target_group": "Frequent travellers",
                "components": [("action", "Flight-tracked pick-up"), ("action", "Meet and greet at arrivals")],
                "value": [
                    ("outcome", "Travellers get home safely after late flights", False, None, ""),
                    ("output", "Driver waiting at arrivals", False, "60", "minutes free waiting"),
                    ("cost_removed", "No airport parking", True, "25.00", "EUR per day"),
                    ("risk_removed", "Stranded travellers after delayed flights", False, None, ""),
                    ("cost_imposed", "Fixed airport fare", True, "65.00", "EUR per ride"),
                    ("risk_imposed", "Flight number must be correct to track delays", False, None, ""),
                ],
            },
        ],
    },
    {
        "name": "Parcel delivery",
        "description": "Collection and next-day delivery of parcels and documents.",
        "criticality": "medium",
        "offerings": [
            {
                "name": "Next-day parcels",
                "target_group": "Post rooms and warehouses",
                "components": [
                    ("action", "Daily collection from your site"),
                    ("access", "Tracking portal"),
                    ("goods", "Labels and packaging"),
                ],
                "value": [
                    ("outcome", "Customers receive orders the next day", False, None, ""),
                    ("output", "Parcels delivered next business day", False, "97", "% on time"),
                    ("cost_removed", "No delivery vans or drivers", True, "45000", "EUR per van per year"),
                    ("risk_removed", "Lost parcels uncompensated", True, "250", "EUR cover per parcel"),
                    ("cost_imposed", "Price per parcel", True, "6.90", "EUR per parcel up to 10 kg"),
                    ("cost_imposed", "Parcels packed and ready for the daily collection", False, None, "by 15:00"),
                    ("risk_imposed", "Delays in peak season", False, "2", "extra days at worst"),
                ],
            }
        ],
    },
    {
        "name": "Service desk",
        "description": "One point of contact for questions, requests and incidents, by email, phone and portal.",
        "criticality": "high",
        "offerings": [
            {
                "name": "Business-hours service desk",
                "target_group": "Everyone in client organisations",
                "components": [
                    ("access", "Portal, email and phone line"),
                    ("action", "First-line diagnosis and resolution"),
                    ("action", "Escalation to specialist teams"),
                ],
                "value": [
                    ("outcome", "People get back to work quickly when something breaks", False, None, ""),
                    ("output", "Tickets resolved at first contact", False, "70", "% of tickets"),
                    ("cost_removed", "No in-house help desk staff", True, "55000", "EUR per agent per year"),
                    ("risk_removed", "Issues forgotten in someone's inbox", False, None, ""),
                    ("cost_imposed", "Fee per user", True, "3.50", "EUR per user per month"),
                    ("cost_imposed", "Time describing the issue", False, "5", "minutes per ticket"),
                    ("risk_imposed", "No cover outside business hours", False, None, "08:00–18:00 weekdays"),
                ],
            }
        ],
    },
]


def load(ctx: DemoContext) -> None:
    managers = ctx.objects["staff"]["service_manager"]
    services: list[Service] = []
    offerings: list[Offering] = []
    for index, spec in enumerate(SERVICES):
        manager = managers[index % len(managers)]
        service = service_create(
            by=manager,
            name=spec["name"],
            description=spec["description"],
            lifecycle="live",
            criticality=spec["criticality"],
            service_manager=manager,
        )
        services.append(service)
        for offering_spec in spec["offerings"]:
            offering = offering_create(
                service=service, by=manager, name=offering_spec["name"], target_group=offering_spec["target_group"]
            )
            for position, (kind, name) in enumerate(offering_spec["components"]):
                component_create(offering=offering, by=manager, kind=kind, name=name, position=position)
            for position, (kind, description, financial, estimate, unit) in enumerate(offering_spec["value"]):
                value_item_create(
                    offering=offering,
                    by=manager,
                    kind=kind,
                    description=description,
                    financial=financial,
                    estimate=estimate,
                    unit=unit,
                    position=position,
                )
            offerings.append(offering)
    # A service still in the pipeline, so lifecycle filters show something.
    services.append(
        service_create(
            by=managers[0],
            name="Video conferencing rooms",
            description="Meeting rooms equipped for hybrid meetings (planned).",
            lifecycle="pipeline",
            criticality="low",
            service_manager=managers[-1],
        )
    )
    ctx.objects["services"] = services
    ctx.objects["offerings"] = offerings
