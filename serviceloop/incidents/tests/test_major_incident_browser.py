"""Done means (issue 13): declare a major incident, post two updates, miss the third (the overdue alert
fires), publish a recovery plan, resolve it, complete the review — and the status page, the JSON API,
the Atom feed, a subscriber's mail (from the SMTP server in the test) and a webhook receiver in the
test show each step."""

from __future__ import annotations

import json
import re
import urllib.request
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from serviceloop.desk.tests.test_browser_email_roundtrip import sign_in
from serviceloop.incidents.models import Component, Incident, Review, Silence
from serviceloop.incidents.services_cadence import cadence_check
from serviceloop.incidents.tests.factories_subs import Receiver, make_webhook
from serviceloop.incidents.webhooks import verify_signature

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=15) as answer:  # nosec B310  # the live server on loopback
        return answer.status, answer.read()


def _json(base: str, path: str) -> Any:
    status, body = _get(f"{base}{path}")
    assert status == 200
    return json.loads(body)


def _mails_to(smtp_server: Any, address: str) -> list[Any]:
    with smtp_server.lock:
        return [m for m in smtp_server.messages if address in (m["To"] or "")]


def _wait_mails_to(smtp_server: Any, address: str, count: int) -> list[Any]:
    smtp_server.wait_for(len(smtp_server.messages), timeout=1)
    for _ in range(60):
        mails = _mails_to(smtp_server, address)
        if len(mails) >= count:
            return mails
        smtp_server.wait_for(len(smtp_server.messages) + 1, timeout=0.5)
    raise AssertionError(f"{address} got {len(_mails_to(smtp_server, address))} mails, expected {count}")


def _text(mail: Any) -> str:
    return str(mail.get_body(("plain",)).get_content())


def _post_update(page: Any, status: str, doing: str) -> None:
    composer = page.locator("form#update-form")
    composer.locator("select[name=status]").select_option(status)
    composer.get_by_label("What is affected").fill("Email and calendars")
    composer.get_by_label("Who is impacted").fill("Every organisation on the mail service")
    composer.get_by_label("What we are doing").fill(doing)
    composer.get_by_role("button", name="Post update").click()
    page.get_by_text("Update posted").first.wait_for()


def test_a_major_incident_from_declaration_to_published_review_shows_on_every_channel(
    live_server: Any,
    page: Any,
    browser: Any,
    smtp_server: Any,
    settings: Any,
    travel: Any,
    alex: Any,
    sam: Any,
    service: Any,
    relationship_a: Any,
    carol_person: Any,
) -> None:
    base = live_server.url
    settings.SITE_URL = base
    settings.SERVICELOOP_WEBHOOK_ALLOW_PRIVATE = True
    travel.to(START)
    Component.objects.create(service=service, name=service.name, is_public=True)
    receiver = Receiver().start()
    try:
        hook = make_webhook(receiver.url, owner_email="ops@watcher.example")

        # A watcher follows the status page by email: double opt-in through the real mail.
        watcher = browser.new_page()
        watcher.goto(f"{base}/status/subscribe/")
        watcher.get_by_label("Email address").fill("watcher@example.org")
        watcher.get_by_role("button", name="Subscribe").click()
        watcher.wait_for_load_state()
        [confirmation] = _wait_mails_to(smtp_server, "watcher@example.org", 1)
        link = re.search(r"https?://\S+/status/subscribe/\S+", _text(confirmation))
        assert link is not None
        watcher.goto(link.group(0))
        watcher.get_by_role("button", name="Confirm my subscription").click()
        watcher.wait_for_load_state()

        # The agent declares a SEV1 on the public service.
        sign_in(page, base, alex.email, "/incidents/declare/")
        page.wait_for_url("**/incidents/declare/")
        declare = page.locator("form#declare")
        declare.get_by_label("Title").fill("Mail is down for everyone")
        declare.get_by_label("Severity").select_option("sev1")
        declare.get_by_label("Visibility").select_option("public")
        declare.get_by_label(service.name).select_option("major_outage")
        declare.get_by_role("button", name="Declare").click()
        page.get_by_text("is declared").first.wait_for()
        incident = Incident.objects.get()
        assert incident.affected_organisations.filter(organisation=relationship_a.organisation).exists()

        # Two updates on the cadence: to every audience.
        _post_update(page, "investigating", "We are looking into failed deliveries.")
        summary = _json(base, "/api/v2/summary.json")
        assert summary["status"]["indicator"] == "critical"
        [component] = [c for c in summary["components"] if c["name"] == service.name]
        assert component["status"] == "major_outage"
        [open_incident] = summary["incidents"]
        assert open_incident["status"] == "investigating" and open_incident["impact"] == "critical"
        assert "failed deliveries" in open_incident["incident_updates"][0]["body"]

        travel.to(START + timedelta(minutes=25))
        page.reload()
        _post_update(page, "identified", "A storage node failed; we are moving mailboxes off it.")
        unresolved = _json(base, "/api/v2/incidents/unresolved.json")
        assert [u["status"] for u in unresolved["incidents"][0]["incident_updates"]] == ["identified", "investigating"]

        # The third update does not come: the owner is reminded, then alerted, and the silence is kept.
        travel.to(START + timedelta(minutes=51))
        assert cadence_check(now=travel.now())["reminded"] >= 1
        travel.to(START + timedelta(minutes=56))
        assert cadence_check(now=travel.now())["overdue"] >= 1
        assert cadence_check(now=travel.now()) == {"reminded": 0, "overdue": 0}  # once only
        overdue = [m for m in _wait_mails_to(smtp_server, alex.email, 1) if "overdue" in m["Subject"]]
        assert overdue and overdue[0]["Subject"].startswith(f"[{incident.reference}]")
        assert Silence.objects.filter(plan__incident=incident, ended_at__isnull=True).exists()
        page.reload()
        assert "overdue" in page.locator("#clocks").inner_text().lower()

        # A recovery plan with a customer-facing step, published with the next update.
        page.locator("#recovery").get_by_text("Add a step").click()
        steps = page.locator("form#step-add")
        steps.get_by_label("Title").fill("Move the mailboxes to the healthy nodes")
        steps.get_by_label("Customer-facing").check()
        steps.get_by_role("button", name="Add step").click()
        page.get_by_role("button", name="Publish the plan").click()
        page.locator("#recovery").get_by_text("published", exact=False).first.wait_for()
        travel.to(START + timedelta(minutes=60))
        _post_update(page, "monitoring", "Mailboxes moved; we are watching the queues drain.")
        assert not Silence.objects.filter(plan__incident=incident, ended_at__isnull=True).exists()
        status_page = browser.new_page()
        status_page.goto(f"{base}/status/incidents/{incident.public_id}/")
        assert "Move the mailboxes to the healthy nodes" in status_page.content()

        # Resolved: the resolution notice goes to every audience; the review opens by itself.
        travel.to(START + timedelta(minutes=80))
        page.reload()
        resolve = page.locator("form#resolve")
        resolve.get_by_label("Resolution notice").fill("Mail is flowing again; delayed mail has been delivered.")
        resolve.get_by_role("button", name=f"Resolve {incident.reference}").click()
        page.get_by_role("link", name="Post-incident review").wait_for()
        incident.refresh_from_db()
        assert incident.status == "resolved"
        review = Review.objects.get(incident=incident)

        # The manager completes and publishes the review.
        manager = browser.new_page()
        sign_in(manager, base, sam.email, f"/incidents/{incident.public_id}/review/")
        form = manager.locator("form#review-form")
        form.get_by_label("Root-cause category").select_option("hardware")
        form.get_by_label("Customer summary").fill("A storage node failed; mail was delayed for 80 minutes.")
        form.get_by_role("button", name="Save").click()
        manager.wait_for_load_state()
        action = manager.locator("form#add-action")
        action.get_by_label("Title").fill("Alert on storage node health")
        action.get_by_label("Kind").select_option("detect")
        action.get_by_label("Due on").fill("2026-12-16")
        action.get_by_role("button", name="Add action").click()
        manager.wait_for_load_state()
        manager.get_by_role("button", name="Complete the review").click()
        manager.get_by_role("button", name="Publish the review").click()
        manager.wait_for_load_state()
        review.refresh_from_db()
        assert review.status == "published"

        # The status page, the JSON API and the Atom feed show every step.
        # (A new browser: the page may be cached for SERVICELOOP_STATUS_MAX_AGE seconds, as it says.)
        status_page = browser.new_page()
        status_page.goto(f"{base}/status/incidents/{incident.public_id}/")
        text = status_page.content()
        for said in ("failed deliveries", "storage node failed", "Mailboxes moved", "Mail is flowing again"):
            assert said in text
        assert "mail was delayed for 80 minutes" in text
        [shown] = [i for i in _json(base, "/api/v2/incidents.json")["incidents"] if i["id"] == incident.public_id]
        assert shown["status"] == "postmortem" and shown["resolved_at"]
        assert [u["status"] for u in shown["incident_updates"]] == [
            "resolved",
            "monitoring",
            "identified",
            "investigating",
        ]
        assert _json(base, "/api/v2/status.json")["status"]["indicator"] == "none"
        status, atom = _get(f"{base}/status/history.atom")
        entries = ET.fromstring(atom).findall(f"{ATOM}entry")  # noqa: S314  # nosec B314: our own output
        titles = [e.findtext(f"{ATOM}title") or "" for e in entries]
        assert status == 200 and [t for t in titles if t.startswith("Mail is down for everyone")] == [
            "Mail is down for everyone: Resolved",
            "Mail is down for everyone: Monitoring",
            "Mail is down for everyone: Identified",
            "Mail is down for everyone: Investigating",
        ]

        # The subscriber's mail: the confirmation, then each public update, the resolution last.
        mails = _wait_mails_to(smtp_server, "watcher@example.org", 5)
        updates = [_text(m) for m in mails[1:]]
        assert "failed deliveries" in updates[0] and "Mail is flowing again" in updates[-1]
        assert all(m["List-Unsubscribe"] and m["List-Unsubscribe-Post"] for m in mails[1:])

        # The webhook receiver got each step, signed.
        bodies = [r for r in receiver.received if "incident" in r.json()]
        assert len(bodies) >= 4
        for received in bodies:
            headers = {k.lower(): v for k, v in received.headers.items()}
            assert verify_signature(
                hook.secret,
                headers["x-serviceloop-timestamp"],
                received.body,
                headers["x-serviceloop-signature"],
                now=float(headers["x-serviceloop-timestamp"]),
            )
        assert bodies[-1].json()["incident"]["status"] == "resolved"
    finally:
        receiver.stop()
