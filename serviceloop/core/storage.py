"""Files written through a storage inside a transaction, removed again when that transaction rolls back.

A file cannot take part in a database transaction, and Django has no "on rollback" hook. A service
therefore writes its files before their rows (so a committed row always has its file) and wraps its
transaction in `files_removed_on_rollback()`: an exception leaving the block means the rows were
rolled back, so the files written inside it are deleted. Blocks nest the way savepoints do: a block
that succeeds inside another hands its files to the outer one, which deletes them if it fails later.

What this cannot see is a rollback of a transaction opened by a caller without the guard; the
daily orphan sweep (desk's `attachments_orphans_delete`) removes those files after a day.

The files of the open blocks live in a context variable: per thread (and per asyncio task), and only
for as long as the `with` block runs, so no request ever sees another's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path

from django.core.files.storage import FileSystemStorage, Storage

logger = logging.getLogger(__name__)

_written: ContextVar[list[tuple[Storage, str]] | None] = ContextVar("serviceloop_files_written", default=None)


@contextmanager
def files_removed_on_rollback() -> Iterator[None]:
    """Around a `transaction.atomic()` block: files recorded with `file_written` inside it are deleted
    when an exception leaves it."""
    outer = _written.get()
    mine: list[tuple[Storage, str]] = []
    token = _written.set(mine)
    try:
        yield
    except BaseException:
        for storage, name in mine:
            stored_file_delete(storage=storage, name=name)
        raise
    finally:
        _written.reset(token)
    if outer is not None:
        # Our rows are part of the outer transaction now: they roll back with it.
        outer.extend(mine)


def file_written(*, storage: Storage, name: str) -> None:
    """Record a file just written inside `files_removed_on_rollback()` (outside one: only the sweep)."""
    written = _written.get()
    if written is not None:
        written.append((storage, name))


def stored_file_delete(*, storage: Storage, name: str) -> bool:
    """Delete one stored file; False (and a log line) when the store refuses.

    Called while another error is being raised, or from a sweep that must go on to the next file: a
    store that is down must not hide the original error, and the next sweep tries again.
    """
    try:
        storage.delete(name)
    except Exception as error:  # any storage backend's failure (OSError, botocore's ClientError, …)
        logger.warning("could not delete stored file %s, left to the orphan sweep: %s", name, error)
        return False
    if isinstance(storage, FileSystemStorage):
        # Each file has a directory of its own (a random name); leave no empty ones behind.
        with suppress(OSError):  # not empty (never ours to remove) or already gone
            Path(storage.path(name)).parent.rmdir()
    return True
