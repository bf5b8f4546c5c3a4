"""Attachments: validated (size, content type) and stored through Django's storage API."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile

from serviceloop.core.errors import InvalidInput
from serviceloop.desk.models import Attachment, Message

MAX_PER_MESSAGE = 10


@dataclass(frozen=True)
class NewAttachment:
    """A file to attach, from any channel: a form upload, an API body, an email part."""

    filename: str
    content: bytes
    content_type: str = ""

    @classmethod
    def from_upload(cls, upload: UploadedFile) -> NewAttachment:
        max_bytes = settings.SERVICELOOP_ATTACHMENT_MAX_BYTES
        if upload.size is not None and upload.size > max_bytes:
            raise _too_large(upload.name or "file", max_bytes)
        return cls(filename=upload.name or "file", content=upload.read(), content_type=upload.content_type or "")


def _too_large(name: str, max_bytes: int) -> InvalidInput:
    return InvalidInput(
        "attachment_too_large",
        f"“{name}” is larger than the limit of {max_bytes // (1024 * 1024) or max_bytes} "
        f"{'MB' if max_bytes >= 1024 * 1024 else 'bytes'}.",
        field="attachments",
    )


def content_type_of(item: NewAttachment) -> str:
    # The name decides where it can (browsers and mail clients lie about types); the declared type otherwise.
    guessed, _encoding = mimetypes.guess_type(item.filename)
    return (guessed or item.content_type or "application/octet-stream").split(";")[0].strip().lower()


def attachments_validate(items: Iterable[NewAttachment]) -> list[tuple[NewAttachment, str]]:
    items = list(items)
    if len(items) > MAX_PER_MESSAGE:
        raise InvalidInput(
            "too_many_attachments", f"Attach at most {MAX_PER_MESSAGE} files to one message.", field="attachments"
        )
    allowed = set(settings.SERVICELOOP_ATTACHMENT_TYPES)
    max_bytes = settings.SERVICELOOP_ATTACHMENT_MAX_BYTES
    checked = []
    for item in items:
        name = PurePath(item.filename.replace("\\", "/")).name.strip() or "file"
        if len(item.content) > max_bytes:
            raise _too_large(name, max_bytes)
        if not item.content:
            raise InvalidInput("attachment_empty", f"“{name}” is empty.", field="attachments")
        content_type = content_type_of(item)
        if content_type not in allowed:
            raise InvalidInput(
                "attachment_type_not_allowed",
                f"Files of type {content_type} cannot be attached; allowed are images, PDF, text, "
                "office documents and zip files.",
                field="attachments",
            )
        checked.append((NewAttachment(filename=name[:200], content=item.content), content_type))
    return checked


def attachments_store(*, message: Message, items: list[tuple[NewAttachment, str]]) -> list[Attachment]:
    stored = []
    for item, content_type in items:
        attachment = Attachment(
            ticket_id=message.ticket_id,
            message=message,
            filename=item.filename,
            content_type=content_type,
            size=len(item.content),
        )
        attachment.file.save(item.filename, ContentFile(item.content), save=False)
        attachment.save()
        stored.append(attachment)
    return stored
