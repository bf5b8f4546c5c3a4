"""Attachments: validated (size, content type) and stored through Django's storage API.

The storage is configured from the environment (a directory or an S3-compatible bucket), so every web
process sees every file. A file is written before its row; the service's transaction runs inside
`files_removed_on_rollback()`, so a rollback deletes it again, and a daily sweep deletes any file
that no row refers to (a rollback the guard could not see, a deleted ticket).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.core.files.uploadedfile import UploadedFile

from serviceloop.core import clock
from serviceloop.core.errors import InvalidInput
from serviceloop.core.storage import file_written, stored_file_delete
from serviceloop.desk.models import ATTACHMENT_DIR, Attachment, Message

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
        # Recorded before the row is saved: if the insert itself fails, the file goes too.
        file_written(storage=attachment.file.storage, name=attachment.file.name)
        attachment.save()
        stored.append(attachment)
    return stored


# A file younger than this may belong to a transaction still open (a large upload, a slow mail batch).
ORPHAN_AGE = timedelta(days=1)
_ORPHAN_BATCH = 500


def attachments_orphans_delete(*, older_than: timedelta = ORPHAN_AGE) -> int:
    """Delete stored attachment files that no attachment refers to and that are older than `older_than`;
    returns how many were deleted."""
    storage = Attachment._meta.get_field("file").storage  # type: ignore[union-attr]
    cutoff = clock.now() - older_than
    deleted = 0
    batch: list[str] = []
    for name, modified in _stored_files(storage, ATTACHMENT_DIR):
        if modified < cutoff:
            batch.append(name)
        if len(batch) >= _ORPHAN_BATCH:
            deleted += _delete_unreferenced(storage, batch)
            batch = []
    return deleted + _delete_unreferenced(storage, batch)


def _delete_unreferenced(storage: Storage, names: list[str]) -> int:
    if not names:
        return 0
    referenced = set(Attachment.objects.filter(file__in=names).values_list("file", flat=True))
    return sum(stored_file_delete(storage=storage, name=name) for name in names if name not in referenced)


def _stored_files(storage: Storage, root: str) -> Iterator[tuple[str, datetime]]:
    """Every file under `root` with its modification time, as names the storage (and the rows) use."""
    s3 = _s3_storage_class()
    if s3 is not None and isinstance(storage, s3):
        yield from _bucket_files(storage, root)
        return
    try:
        directories, files = storage.listdir(root)
    except FileNotFoundError:
        return
    for filename in files:
        name = f"{root}/{filename}"
        yield name, storage.get_modified_time(name)
    for directory in directories:
        yield from _stored_files(storage, f"{root}/{directory}")


def _bucket_files(storage: Any, root: str) -> Iterator[tuple[str, datetime]]:
    # One listing request per 1,000 objects, instead of one per attachment directory.
    location = storage.location.strip("/")
    prefix = f"{location}/{root}/" if location else f"{root}/"
    for item in storage.bucket.objects.filter(Prefix=prefix):
        yield (item.key[len(location) + 1 :] if location else item.key), item.last_modified


def _s3_storage_class() -> type[Storage] | None:
    # django-storages is the optional `s3` extra: the embedded default runs without it.
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:
        return None
    return S3Storage  # type: ignore[no-any-return]
