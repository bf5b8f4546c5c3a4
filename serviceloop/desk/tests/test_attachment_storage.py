"""Attachments in the media storage: shared by every web process (a bucket on a real S3-compatible
server on loopback), never left behind by a rolled-back transaction, orphans swept after a day."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.testing import api_client_for
from serviceloop.core.errors import ConflictError
from serviceloop.core.testing import MediaStore
from serviceloop.desk.models import Attachment, InboundMail, Message, Ticket
from serviceloop.desk.services import NewAttachment, attachments_orphans_delete, ticket_reply
from serviceloop.desk.services import mail_in as mail_in_module
from serviceloop.desk.services import tickets as tickets_module
from serviceloop.desk.services.mail_in import mail_receive
from serviceloop.desk.tasks import delete_orphaned_attachments
from serviceloop.desk.tests.factories import make_ticket
from serviceloop.desk.tests.mail_factories import raw_mail

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40  # every byte value: nothing may be re-encoded on the way


def page_client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def another_web_process(settings: Any) -> None:
    """What a second web process has: the same settings, its own storage built from them (nothing
    the first process kept in memory)."""
    settings.STORAGES = dict(settings.STORAGES)


# ---------------------------------------------------------------- shared by every web process


def test_the_default_storage_is_the_bucket_when_configured_for_s3(s3_media: MediaStore) -> None:
    from storages.backends.s3 import S3Storage

    assert isinstance(default_storage, S3Storage)
    assert default_storage.bucket_name == s3_media.bucket
    assert (default_storage.default_acl, default_storage.querystring_auth) == ("private", False)


def test_an_attachment_uploaded_through_the_api_is_downloaded_by_another_web_process(
    s3_media: MediaStore, settings: Any, carol: Any, carol_person: Any, service: Any
) -> None:
    response = api_client_for(carol).post(
        "/api/desk/tickets",
        {
            "service": service.public_id,
            "subject": "Invoice is wrong",
            "body": "See the attached invoice.",
            "attachments": [{"filename": "invoice.pdf", "content_base64": base64.b64encode(PDF).decode()}],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get()
    assert s3_media.names() == [attachment.file.name]
    assert s3_media.read(attachment.file.name) == PDF
    assert not django_settings.MEDIA_ROOT.exists()

    another_web_process(settings)
    download = page_client_for(carol).get(reverse("desk:attachment", args=[attachment.public_id]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"


def test_an_attachment_uploaded_on_the_portal_is_read_by_staff_through_the_api_of_another_web_process(
    s3_media: MediaStore, settings: Any, carol: Any, carol_person: Any, alex: Any, service: Any
) -> None:
    ticket = make_ticket(carol_person, service)
    response = page_client_for(carol).post(
        reverse("desk:portal_reply", args=[ticket.public_id]),
        {"body": "The form, filled in.", "attachments": [SimpleUploadedFile("form.pdf", PDF, "application/pdf")]},
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert s3_media.names() == [attachment.file.name]

    another_web_process(settings)
    answer = api_client_for(alex).get(f"/api/desk/attachments/{attachment.public_id}")
    assert answer.status_code == 200
    assert base64.b64decode(answer.json()["content_base64"]) == PDF


def test_customer_of_another_organisation_cannot_download_an_attachment_from_the_bucket(
    s3_media: MediaStore, carol_person: Any, bob: Any, alex: Any, service: Any
) -> None:
    ticket = make_ticket(carol_person, service)
    reply = ticket_reply(
        ticket=ticket,
        body="Here is the log.",
        by_user=alex,
        channel="staff",
        attachments=[NewAttachment(filename="vpn.txt", content=b"secret log")],
    )
    public_id = reply.attachments.get().public_id
    assert page_client_for(bob).get(reverse("desk:attachment", args=[public_id])).status_code == 404
    assert api_client_for(bob).get(f"/api/desk/attachments/{public_id}").status_code == 404


# ---------------------------------------------------------------- no file without its row


def _fail_after_the_files_are_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    # The database refuses a write that comes after the attachments (here: the message's outbox row).
    def refuse(message: Message) -> None:
        assert message.attachments.exists(), "the files must be stored before the failure"
        raise DatabaseError("the database went away")

    monkeypatch.setattr(tickets_module, "_record_message", refuse)


def test_a_reply_whose_transaction_fails_after_storing_its_file_leaves_no_file(
    media: MediaStore, monkeypatch: pytest.MonkeyPatch, carol_person: Any, alex: Any, service: Any
) -> None:
    ticket = make_ticket(carol_person, service)
    _fail_after_the_files_are_stored(monkeypatch)
    with pytest.raises(DatabaseError):
        ticket_reply(
            ticket=ticket,
            body="Two screenshots.",
            by_user=alex,
            channel="staff",
            attachments=[
                NewAttachment(filename="one.png", content=b"\x89PNG one"),
                NewAttachment(filename="two.png", content=b"\x89PNG two"),
            ],
        )
    assert not Attachment.objects.exists()
    assert media.names() == []


def test_a_new_ticket_whose_transaction_fails_leaves_no_file(
    media: MediaStore, monkeypatch: pytest.MonkeyPatch, carol: Any, carol_person: Any, service: Any
) -> None:
    _fail_after_the_files_are_stored(monkeypatch)
    with pytest.raises(DatabaseError):
        api_client_for(carol).post(
            "/api/desk/tickets",
            {
                "service": service.public_id,
                "subject": "VPN drops",
                "body": "Log attached.",
                "attachments": [{"filename": "log.txt", "content_base64": base64.b64encode(b"drop").decode()}],
            },
            content_type="application/json",
        )
    assert not Ticket.objects.exists()
    assert media.names() == []


@pytest.mark.django_db
def test_a_mail_whose_log_row_fails_after_the_reply_leaves_no_file(
    filesystem_media: MediaStore, monkeypatch: pytest.MonkeyPatch, carol_person: Any, service: Any
) -> None:
    # The reply's own transaction succeeded (a savepoint inside the mail's); the mail's then failed.
    ticket = make_ticket(carol_person, service)

    def refuse(*args: object, **kwargs: object) -> None:
        raise DatabaseError("the database went away")

    monkeypatch.setattr(mail_in_module, "_finish", refuse)
    raw = raw_mail(subject=f"Re: [{ticket.reference}]", attachments=[("scan.pdf", "application/pdf", PDF)])
    with pytest.raises(DatabaseError):
        mail_receive(raw=raw, source="webhook")
    # The stored mail stays `received` (its event is retried); nothing of the reply remains.
    assert InboundMail.objects.get().outcome == "received" and not Attachment.objects.exists()
    assert filesystem_media.names() == []


def test_a_refused_reply_inside_a_mail_leaves_no_file_while_the_mail_is_logged(
    filesystem_media: MediaStore, monkeypatch: pytest.MonkeyPatch, carol_person: Any, service: Any
) -> None:
    # The reply alone fails (its savepoint rolls back); the mail's transaction commits its log row.
    ticket = make_ticket(carol_person, service)

    def refuse(message: Message) -> None:
        raise ConflictError("ticket_busy", "The ticket is being changed; try again.")

    monkeypatch.setattr(tickets_module, "_record_message", refuse)
    raw = raw_mail(subject=f"Re: [{ticket.reference}]", attachments=[("scan.pdf", "application/pdf", PDF)])
    result = mail_receive(raw=raw, source="webhook")
    assert (result.outcome, InboundMail.objects.get().outcome) == ("rejected", "rejected")
    assert not Attachment.objects.exists()
    assert filesystem_media.names() == []


def test_a_reply_that_commits_keeps_its_file(media: MediaStore, carol_person: Any, alex: Any, service: Any) -> None:
    ticket = make_ticket(carol_person, service)
    reply = ticket_reply(
        ticket=ticket,
        body="Screenshot.",
        by_user=alex,
        channel="staff",
        attachments=[NewAttachment(filename="one.png", content=b"\x89PNG one")],
    )
    name = reply.attachments.get().file.name
    assert media.names() == [name]
    assert media.read(name) == b"\x89PNG one"


# ---------------------------------------------------------------- the orphan sweep


def test_the_sweep_deletes_a_day_old_orphan_and_keeps_real_attachments(
    media: MediaStore, travel: Any, carol_person: Any, alex: Any, service: Any
) -> None:
    ticket = make_ticket(carol_person, service)
    reply = ticket_reply(
        ticket=ticket,
        body="Screenshot.",
        by_user=alex,
        channel="staff",
        attachments=[NewAttachment(filename="kept.png", content=b"\x89PNG kept")],
    )
    kept = reply.attachments.get().file.name
    default_storage.save("desk/attachments/rolled-back/lost.png", ContentFile(b"\x89PNG lost"))
    travel.by(days=1, hours=1)
    assert attachments_orphans_delete() == 1
    assert media.names() == [kept]


def test_the_sweep_leaves_files_younger_than_a_day_to_transactions_still_open(
    media: MediaStore, travel: Any, db: Any
) -> None:
    orphan = default_storage.save("desk/attachments/in-flight/upload.pdf", ContentFile(PDF))
    travel.by(hours=23)
    assert attachments_orphans_delete() == 0
    assert media.names() == [orphan]


def test_the_sweep_runs_daily_from_beat(filesystem_media: MediaStore, travel: Any, db: Any) -> None:
    schedule = django_settings.CELERY_BEAT_SCHEDULE["desk-attachment-orphans"]
    assert (schedule["task"], schedule["schedule"]) == (delete_orphaned_attachments.name, 24 * 60 * 60.0)
    default_storage.save("desk/attachments/rolled-back/lost.png", ContentFile(b"lost"))
    travel.by(days=2)
    assert delete_orphaned_attachments.delay().get() == 1
    assert filesystem_media.names() == []
