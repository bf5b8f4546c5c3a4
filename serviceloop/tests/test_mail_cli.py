"""`serviceloop mail parse FILE|-`: what the parser made of one mail, as JSON; never writes."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from serviceloop.catalogue.models import Service
from serviceloop.cli import main
from serviceloop.desk.models import Attachment, InboundMail, Message, Ticket
from serviceloop.desk.tests.factories import make_ticket
from serviceloop.desk.tests.mail_factories import many_parts_mail, raw_mail
from serviceloop.relationships.models import Person

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Ticket, Message, Attachment, InboundMail, Person))


def test_parse_prints_the_mail_and_the_ticket_it_would_thread_to_without_writing(
    carol_person: Person, tmp_path: Path, capsys: Any
) -> None:
    ticket = make_ticket(carol_person, Service.objects.get())
    path = tmp_path / "reply.eml"
    path.write_bytes(
        raw_mail(
            subject=f"Re: [{ticket.reference}] Printer",
            message_id="<r1@acme.example>",
            body="Fixed.\n\n> old quoted text\n",
            attachments=[("log.txt", "text/plain", b"12345")],
        )
    )
    before = _counts()
    assert main(["mail", "parse", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert _counts() == before
    assert (out["from_email"], out["message_id"], out["would_thread_to"]) == (
        "carol@acme.example",
        "r1@acme.example",
        ticket.reference,
    )
    assert out["stored_body"] == "Fixed."
    assert out["is_auto_reply"] is False
    assert out["attachments"] == [{"filename": "log.txt", "content_type": "text/plain", "size": 5, "inline": False}]


def test_parse_reads_standard_input_and_reports_an_auto_reply(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    data = raw_mail(subject="Automatic reply: away", headers={"Auto-Submitted": "auto-replied"})
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["mail", "parse", "-"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["is_auto_reply"] is True and out["auto_reason"]
    assert out["would_thread_to"] is None


def test_parse_says_which_route_a_new_mail_would_take_without_writing(
    carol_person: Person, tmp_path: Path, capsys: Any
) -> None:
    from serviceloop.desk.models import MailRoute

    service = Service.objects.get()
    MailRoute.objects.create(service=service, address="email@desk.example")
    path = tmp_path / "new.eml"
    path.write_bytes(raw_mail(to="x@acme.example", headers={"Delivered-To": "email@desk.example"}))
    before = _counts()
    assert main(["mail", "parse", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert _counts() == before
    assert out["would_route_to"] == f"address email@desk.example → {service.name}"


def test_parse_exits_2_with_a_clear_message_on_input_that_is_not_a_mail(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x00\x00")
    assert main(["mail", "parse", str(path)]) == 2
    err = capsys.readouterr().err
    assert "is not a mail" in err and "photo.jpg" in err


def test_parse_exits_2_on_a_missing_file(tmp_path: Path, capsys: Any) -> None:
    assert main(["mail", "parse", str(tmp_path / "nope.eml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_parse_applies_the_desks_limits_and_says_which_one_a_mail_passes(
    tmp_path: Path, capsys: Any, settings: Any
) -> None:
    settings.SERVICELOOP_MAIL_MAX_PARTS = 20
    path = tmp_path / "many.eml"
    path.write_bytes(many_parts_mail(50))
    assert main(["mail", "parse", str(path)]) == 2
    err = capsys.readouterr().err
    assert "beyond the desk's limits: too_many_parts" in err and "more than 20 MIME parts" in err


def test_parse_prints_the_trusted_authentication_results(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "signed.eml"
    path.write_bytes(b"Authentication-Results: mx.desk.example; spf=pass; dkim=pass; dmarc=pass\r\n" + raw_mail())
    assert main(["mail", "parse", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["authentication"] == {"authserv_id": "mx.desk.example", "dmarc": "pass", "dkim": "pass", "spf": "pass"}
