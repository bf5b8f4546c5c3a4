"""`serviceloop mail parse FILE|-`: what the parser made of one mail, as JSON; never writes."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
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
    assert out["threading_note"] is None
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
    path.write_bytes(
        b"Authentication-Results: mx.desk.example; spf=pass; dkim=pass; dmarc=pass header.from=Acme.Example\r\n"
        + raw_mail()
    )
    assert main(["mail", "parse", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["authentication"] == {
        "authserv_id": "mx.desk.example",
        "dmarc": "pass",
        "dmarc_domain": "acme.example",
        "dkim": "pass",
        "spf": "pass",
    }


# The real `serviceloop` command in a process of its own, as an operator runs it on a fresh install
# or from another folder: no database, no data directory, no secret key.

ROOT = Path(__file__).resolve().parents[2]
JAPANESE_SUBJECT = "【至急】プリンターが動きません"


def _serviceloop() -> str:
    beside = Path(sys.executable).with_name("serviceloop")
    found = str(beside) if beside.exists() else shutil.which("serviceloop")
    assert found, "the serviceloop entry point is not installed (pip install -e .)"
    return found


def _fresh_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SERVICELOOP_", "PYTEST_", "DJANGO_", "CELERY_")) and key != "PYTHONPATH"
    }
    # This checkout's code; output to a terminal that is not UTF-8, where print() would fail or mangle.
    env.update({"PYTHONPATH": str(ROOT), "SERVICELOOP_DATA_DIR": str(data_dir), "PYTHONIOENCODING": "latin-1"})
    env.update(extra)
    return env


def _run_parse(cwd: Path, env: dict[str, str], mail: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [_serviceloop(), "mail", "parse", str(mail)], cwd=cwd, env=env, capture_output=True, timeout=120, check=False
    )


def _japanese_reply(tmp_path: Path) -> Path:
    path = tmp_path / "reply.eml"
    path.write_bytes(
        b"From: Ben Yilmaz ben@acme.example\r\nTo: desk@serviceloop.localhost\r\n"
        b"Subject: Re: [SL-12] " + JAPANESE_SUBJECT.encode("shift_jis") + b"\r\n"
        b"In-Reply-To: <first@acme.example>\r\nMessage-ID: <r2@acme.example>\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nStill broken.\r\n"
    )
    return path


@pytest.mark.parametrize("state", ["missing", "empty"])
def test_parse_without_any_database_prints_the_parse_and_says_threading_was_not_looked_up(
    tmp_path: Path, state: str
) -> None:
    data_dir = tmp_path / "data"
    if state == "empty":
        data_dir.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = _run_parse(elsewhere, _fresh_env(data_dir), _japanese_reply(tmp_path))
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    out = json.loads(result.stdout.decode("utf-8"))  # strict: the output is valid UTF-8
    assert (out["subject"], out["from_email"], out["from_name"]) == (
        f"Re: [SL-12] {JAPANESE_SUBJECT}",
        "ben@acme.example",
        "Ben Yilmaz",
    )
    assert (out["would_thread_to"], out["threaded_by"], out["stored_body"]) == (None, None, "Still broken.")
    assert out["threading_note"].startswith("Threading (which ticket a reply belongs to) was not looked up")
    assert "no database" in out["threading_note"]
    assert "was not looked up" in result.stderr.decode()
    assert b"Traceback" not in result.stderr
    # Nothing written: no ./var where it ran, no data directory (or nothing in the empty one).
    assert list(elsewhere.iterdir()) == []
    assert (list(data_dir.iterdir()) == []) if state == "empty" else not data_dir.exists()


def test_parse_with_an_unreachable_database_server_says_so_and_still_parses(tmp_path: Path) -> None:
    env = _fresh_env(tmp_path / "data", SERVICELOOP_DATABASE_URL="postgres://nobody@127.0.0.1:9/none")
    result = _run_parse(tmp_path, env, _japanese_reply(tmp_path))
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    out = json.loads(result.stdout.decode("utf-8"))
    assert out["subject"] == f"Re: [SL-12] {JAPANESE_SUBJECT}"
    assert "the database cannot be reached" in out["threading_note"]
    assert not (tmp_path / "data").exists()
