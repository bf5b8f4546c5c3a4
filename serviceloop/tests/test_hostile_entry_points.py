"""The hostile-input suite: every public door, sent what an attacker or a careless client sends.

Each case is sent through the real entry point (the test client, as a browser or a client would), and
must be answered with a clear 4xx or 429 — and store nothing: no response, click, post, mail, ticket or
session. The suite prints a table of every case and its answer, and writes it to the data directory
(reports/hostile-input.txt), so a run shows what was tried.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.testing import api_client_for
from serviceloop.core.models import OutgoingMail
from serviceloop.desk.models import InboundMail, Ticket
from serviceloop.feedback import links
from serviceloop.feedback.models import Invitation, LinkClick, Post, PostSource, Response
from serviceloop.feedback.tests.factories_channels import make_widget_site, sign
from serviceloop.feedback.tests.survey_factories import make_person, make_service, make_ticket, resolve

pytestmark = pytest.mark.django_db

SITE_ORIGIN = "https://intranet.acme.example"
POST_SECRET = "mastodon-secret-0123456789"
MAIL_SECRET = "mail-webhook-secret-0123456789"
MB = 1024 * 1024


@dataclass
class Case:
    door: str
    attack: str
    send: Callable[[], Any]
    expect: tuple[int, ...]
    prepare: Callable[[], Any] | None = None
    check: Callable[[Any], bool] | None = None  # what the answer must say, beyond its status


def _stored() -> dict[str, int]:
    from django.contrib.sessions.models import Session

    return {
        "responses": Response.objects.count(),
        "clicks": LinkClick.objects.count(),
        "posts": Post.objects.count(),
        "inbound mails": InboundMail.objects.count(),
        "tickets": Ticket.objects.count(),
        "outgoing mails": OutgoingMail.objects.count(),
        "sessions": Session.objects.count(),
    }


def _tamper(token: str) -> str:
    middle = len(token) // 2
    return token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]


def _old_token(invitation: Invitation, score: int) -> str:
    # Signed fifteen days ago: older than SERVICELOOP_SURVEY_LINK_DAYS (14).
    with mock.patch("time.time", return_value=time.time() - 15 * 86400):
        return links.token_for(invitation.public_id, score)


def _widget_ticket(site: Any) -> str:
    page = Client().get(reverse("feedback:widget_frame", args=[site.key]), HTTP_REFERER=f"{SITE_ORIGIN}/help")
    match = re.search(r'name="ticket" value="([^"]+)"', page.content.decode())
    assert match, "the widget frame hands out a ticket"
    return match.group(1)


def _widget_post(site: Any, ticket: str, score: Any = "9", origin: str = SITE_ORIGIN, **fields: Any) -> Any:
    return Client().post(
        reverse("feedback:widget_frame", args=[site.key]),
        {"score": score, "ticket": ticket, **fields},
        HTTP_ORIGIN=origin,
        HTTP_REFERER=f"{origin}/help",
    )


def _qr_post(url: str, data: dict[str, Any], *, csrf: bool = True, agent: str = "phone") -> Any:
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=agent)
    client.get(url)
    if csrf:
        data = {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    return client.post(url, data)


def _raw(client: Client, path: str, body: bytes, content_type: str = "application/json", **headers: Any) -> Any:
    return client.generic("POST", path, data=body, content_type=content_type, **headers)


def _hook(body: bytes, signature: str | None = None, source: str = "mastodon") -> Any:
    return Client().generic(
        "POST",
        "/api/feedback/posts/webhook",
        data=body,
        content_type="application/json",
        HTTP_X_SERVICELOOP_SOURCE=source,
        HTTP_X_SERVICELOOP_SIGNATURE=sign(body, POST_SECRET) if signature is None else signature,
    )


def _mail(body: bytes, secret: str = MAIL_SECRET) -> Any:
    return Client().generic(
        "POST",
        "/api/desk/mail/inbound",
        data=body,
        content_type="message/rfc822",
        HTTP_X_SERVICELOOP_MAIL_SECRET=secret,
    )


def _sign_in(email: str, password: str) -> Any:
    return Client().post(reverse("accounts:login"), {"username": email, "password": password})


def _reset(email: str) -> Any:
    return Client().post(reverse("accounts:password_reset"), {"email": email})


_ids = iter(range(1, 1000))


def _item(service: Any, **fields: Any) -> dict[str, Any]:
    # A new external id each time: a repeat of one already stored would be a harmless duplicate.
    return {"source": "kiosk", "external_id": f"k-{next(_ids)}", "service": service.public_id, "happiness": 8, **fields}


def _cases(w: dict[str, Any]) -> list[Case]:
    invitation, site, other_site, service = w["invitation"], w["site"], w["other_site"], w["service"]
    ingest = api_client_for(w["agent"])
    answer = lambda token: Client().get(reverse("feedback:survey_answer", args=[token]))  # noqa: E731
    qr = reverse("feedback:qr_public", args=[service.public_id])
    post = {"posts": [{"external_id": "m1", "text": "down again", "posted_at": "2026-11-24T10:00:00Z"}]}
    post_body = json.dumps(post).encode()
    used: dict[str, str] = {}

    def use_widget_ticket() -> None:
        used["ticket"] = _widget_ticket(site)
        assert _widget_post(site, used["ticket"]).status_code == 200

    def lock_carol() -> None:
        for _ in range(5):
            _sign_in(w["carol"].email, "wrong-password")

    def exhaust_resets() -> None:
        for _ in range(3):
            _reset(w["carol"].email)

    def answer_qr_once() -> None:
        assert _qr_post(qr, {"score": "8"}, agent="repeat phone").status_code == 200

    return [
        # ---- one-click survey links
        Case(
            "survey link",
            "tampered signature",
            lambda: answer(_tamper(links.token_for(invitation.public_id, 9))),
            (400, 404),
        ),
        Case("survey link", "expired signature", lambda: answer(_old_token(invitation, 9)), (400, 404, 410)),
        Case("survey link", "10 KB of garbage for a token", lambda: answer("x" * 10_000), (400, 404)),
        Case(
            "survey link",
            "a page token for a score link",
            lambda: Client().post(
                reverse("feedback:survey_page", args=[_tamper(links.token_for(invitation.public_id))]),
                {"comment": "hi"},
            ),
            (400, 403, 404),
        ),
        # ---- the widget
        Case("widget", "no form ticket", lambda: _widget_post(site, ""), (400, 403, 422)),
        Case("widget", "tampered form ticket", lambda: _widget_post(site, _tamper(_widget_ticket(site))), (400, 403)),
        Case("widget", "ticket of another site", lambda: _widget_post(other_site, _widget_ticket(site)), (400, 403)),
        Case("widget", "replayed form ticket", lambda: _widget_post(site, used["ticket"]), (409,), use_widget_ticket),
        Case(
            "widget",
            "foreign Origin",
            lambda: _widget_post(site, _widget_ticket(site), origin="https://evil.example"),
            (403,),
        ),
        Case("widget", "Origin: null", lambda: _widget_post(site, _widget_ticket(site), origin="null"), (403,)),
        Case("widget", "score out of range", lambda: _widget_post(site, _widget_ticket(site), score="99"), (400, 422)),
        Case(
            "widget", "score not a number", lambda: _widget_post(site, _widget_ticket(site), score="true"), (400, 422)
        ),
        Case(
            "widget",
            "1 MB comment",
            lambda: _widget_post(site, _widget_ticket(site), comment="x" * MB),
            (400, 413, 422),
        ),
        # ---- the QR page
        Case("QR page", "no CSRF token", lambda: _qr_post(qr, {"score": "8"}, csrf=False), (403,)),
        Case("QR page", "score out of range", lambda: _qr_post(qr, {"score": "11"}), (400, 422)),
        Case("QR page", "NUL in the comment", lambda: _qr_post(qr, {"score": "8", "comment": "a\x00b"}), (400, 422)),
        Case("QR page", "1 MB comment", lambda: _qr_post(qr, {"score": "8", "comment": "x" * MB}), (400, 413, 422)),
        Case(
            "QR page",
            "a second answer without cookies",
            lambda: _qr_post(qr, {"score": "8"}, agent="repeat phone"),
            (409,),
            answer_qr_once,
        ),
        Case(
            "QR page",
            "unknown service",
            lambda: _qr_post(reverse("feedback:qr_public", args=["nope"]), {"score": "8"}),
            (404,),
        ),
        # ---- the ingest API
        Case(
            "ingest API",
            "no token",
            lambda: Client().post("/api/feedback/ingest", _item(service), content_type="application/json"),
            (401,),
        ),
        Case(
            "ingest API",
            "bad token",
            lambda: Client().post(
                "/api/feedback/ingest",
                _item(service),
                content_type="application/json",
                HTTP_AUTHORIZATION="Bearer nope",
            ),
            (401,),
        ),
        Case(
            "ingest API",
            "bool as a score",
            lambda: ingest.post(
                "/api/feedback/ingest", _item(service, happiness=True), content_type="application/json"
            ),
            (422,),
        ),
        Case(
            "ingest API",
            "score as a string",
            lambda: ingest.post("/api/feedback/ingest", _item(service, happiness="8"), content_type="application/json"),
            (422,),
        ),
        Case(
            "ingest API",
            "year 0001",
            lambda: ingest.post(
                "/api/feedback/ingest",
                _item(service, responded_at="0001-01-01T00:00:00+14:00"),
                content_type="application/json",
            ),
            (422,),
        ),
        Case(
            "ingest API",
            "NUL in the comment",
            lambda: ingest.post(
                "/api/feedback/ingest", _item(service, comment="a\x00b"), content_type="application/json"
            ),
            (422,),
        ),
        Case(
            "ingest API",
            "body not UTF-8",
            lambda: _raw(ingest, "/api/feedback/ingest", b'{"source": "k\xff"}'),
            (400, 422),
        ),
        Case("ingest API", "body not JSON", lambda: _raw(ingest, "/api/feedback/ingest", b"{not json"), (400, 422)),
        Case(
            "ingest API",
            "unknown field",
            lambda: ingest.post("/api/feedback/ingest", _item(service, admin=True), content_type="application/json"),
            (422,),
        ),
        Case(
            "ingest API",
            "3 MB body",
            lambda: _raw(ingest, "/api/feedback/ingest", json.dumps(_item(service, comment="x" * 3 * MB)).encode()),
            (400, 413, 422),
        ),
        # ---- the post webhook
        Case("post webhook", "unsigned", lambda: _hook(post_body, signature=""), (401,)),
        Case(
            "post webhook",
            "tampered signature",
            lambda: _hook(post_body, signature=_tamper(sign(post_body, POST_SECRET))),
            (401,),
        ),
        Case(
            "post webhook",
            "body changed after signing",
            lambda: _hook(post_body.replace(b"down", b"up!!"), signature=sign(post_body, POST_SECRET)),
            (401,),
        ),
        Case("post webhook", "signed, not JSON", lambda: _hook(b"{not json"), (400, 422)),
        Case("post webhook", "signed, not UTF-8", lambda: _hook(b'{"posts": [{"text": "\xff"}]}'), (400, 422)),
        # A batch answers a report per post (its contract): the bad post is named, nothing is stored.
        Case(
            "post webhook",
            "signed, year 0001 (reported for its post)",
            lambda: _hook(post_body.replace(b"2026-11-24T10:00:00Z", b"0001-01-01T00:00:00+14:00")),
            (200,),
            check=lambda answer: answer.json()["rejected"] == 1 and "posted_at" in json.dumps(answer.json()),
        ),
        Case("post webhook", "unknown source", lambda: _hook(post_body, source="nobody"), (401,)),
        # ---- the mail webhook
        Case("mail webhook", "wrong secret", lambda: _mail(b"From: a@b.example\r\n\r\nhi", secret="guess"), (401,)),
        Case("mail webhook", "no secret", lambda: _mail(b"From: a@b.example\r\n\r\nhi", secret=""), (401,)),
        Case(
            "mail webhook",
            "over the size limit",
            lambda: _mail(b"From: a@b.example\r\n\r\n" + b"x" * (int(settings.SERVICELOOP_MAIL_MAX_BYTES) + 1)),
            (413,),
        ),
        # ---- sign-in and password reset
        Case(
            "sign-in",
            "right password after 5 wrong ones",
            lambda: _sign_in(w["carol"].email, "serviceloop-test-pass"),
            (429,),
            lock_carol,
        ),
        Case("sign-in", "NUL in the email", lambda: _sign_in("carol\x00@acme.example", "x"), (400, 422)),
        Case("sign-in", "10 KB email", lambda: _sign_in("c" * 10_000 + "@acme.example", "x"), (400, 422)),
        Case("password reset", "NUL in the email", lambda: _reset("carol\x00@acme.example"), (400, 422)),
        # Past the limit for one address the page answers as ever (no account enumeration), and sends nothing.
        Case(
            "password reset",
            "a 4th reset for one address in an hour",
            lambda: _reset(w["carol"].email),
            (302,),
            exhaust_resets,
        ),
    ]


@pytest.fixture
def world(sam: Any, alex: Any, carol: Any, org_a: Any, settings: Any) -> dict[str, Any]:
    settings.SERVICELOOP_RATE_SIGN_IN_ACCOUNT = "5/15m"
    settings.SERVICELOOP_RATE_PASSWORD_RESET_EMAIL = "3/1h"
    settings.SERVICELOOP_MAIL_WEBHOOK_SECRET = MAIL_SECRET
    carol.set_password("serviceloop-test-pass")
    carol.save()
    service = make_service("Payroll", sam)
    invitation = Invitation.objects.get(ticket=resolve(make_ticket(service, make_person(org_a))))
    PostSource.objects.create(name="mastodon", secret=POST_SECRET)
    return {
        "service": service,
        "invitation": invitation,
        "site": make_widget_site(service, origins=[SITE_ORIGIN]),
        "other_site": make_widget_site(service, origins=["https://portal.other.example"], name="Other"),
        "agent": alex,
        "carol": carol,
    }


def test_every_public_door_refuses_hostile_input_and_stores_nothing(world: dict[str, Any], capsys: Any) -> None:
    rows, wrong = [], []
    for case in _cases(world):
        if case.prepare:
            case.prepare()
        before = _stored()
        try:
            answer = case.send()
        except Exception as error:  # the test client re-raises what would be a 500
            status, failure = 500, f"{type(error).__name__}: {error}"
        else:
            status = answer.status_code
            failure = (
                "" if case.check is None or case.check(answer) else f"answer did not say it: {answer.content[:300]!r}"
            )
        changed = {k: v - before[k] for k, v in _stored().items() if v != before[k]}
        ok = status in case.expect and not changed and not failure
        rows.append((case.door, case.attack, status, "ok" if ok else f"WRONG {changed or failure}".strip()))
        if not ok:
            wrong.append(
                f"{case.door}: {case.attack}: answered {status} (expected {case.expect}), stored {changed} {failure}"
            )
    doors = sorted({door for door, *_ in rows})
    table = [
        f"Hostile input: {len(rows)} cases at {len(doors)} doors ({', '.join(doors)}); {len(rows) - len(wrong)} refused as they should be."
    ]
    table += [f"  {door:<15} {attack:<55} {status}  {verdict}" for door, attack, status, verdict in rows]
    report = Path(settings.DATA_DIR) / "reports" / "hostile-input.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(table) + "\n")
    with capsys.disabled():
        print("\n" + "\n".join(table))
    assert not wrong, "\n".join(wrong)
