"""The data directory (SERVICELOOP_DATA_DIR, `./var` by default): the embedded default's SQLite
database and broker, its generated secret key, static files and attachments.

Reading the settings creates nothing. The entry points that run the product (every `serviceloop`
command but `mail parse`, the WSGI application, `manage.py`, a Celery worker or beat) prepare the
directory before Django reads its settings, so that a command that only reads, run from any folder,
leaves no `./var` behind. No Django here: this runs before the settings are read.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
import time
from pathlib import Path

SECRET_KEY_FILE = "secret_key"  # nosec B105  # the file's name, not a key


def data_dir() -> Path:
    """The configured data directory, whether or not it exists."""
    return Path(os.environ.get("SERVICELOOP_DATA_DIR") or Path.cwd() / "var").resolve()


def secret_key_in(directory: Path) -> str:
    """The key the embedded default generated in `directory`, or "" when there is none yet."""
    try:
        return (directory / SECRET_KEY_FILE).read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return ""


def data_dir_prepare() -> Path:
    """Create the data directory, its static folder and, unless SERVICELOOP_SECRET_KEY is set, its
    secret key; idempotent, and safe when several processes start at once."""
    directory = data_dir()
    (directory / "static").mkdir(parents=True, exist_ok=True)
    if not os.environ.get("SERVICELOOP_SECRET_KEY") and not secret_key_in(directory):
        _write_secret_key(directory)
        # Where the key had to be created in place (no hard links), another process may be writing it
        # at this moment: wait the moment out rather than start with an empty key.
        for _ in range(100):
            if secret_key_in(directory):
                break
            time.sleep(0.01)
    return directory


def _write_secret_key(directory: Path) -> None:
    # Written in full to a private temporary file, then linked into place: a process starting at
    # the same moment sees no key or the whole key, and the first link wins (the others keep it).
    key = secrets.token_urlsafe(50)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".secret_key.")  # created 0600
    try:
        with os.fdopen(handle, "w") as file:
            file.write(key)
        try:
            os.link(temporary, directory / SECRET_KEY_FILE)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: create it exclusively instead
            with contextlib.suppress(FileExistsError):
                _create_exclusively(directory / SECRET_KEY_FILE, key)
    finally:
        os.unlink(temporary)


def _create_exclusively(path: Path, text: str) -> None:
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(text)
