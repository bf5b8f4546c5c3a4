"""Helpers for the `serviceloop` command's subcommands, which apps contribute in `commands.py`."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceloop.settings")
    import django

    django.setup()


def progress(
    items: Iterable[T], *, total: int | None = None, desc: str = "", enabled: bool | None = None
) -> Iterator[T]:
    """A progress bar on the terminal (stderr), nothing when output goes to a file or a pipe."""
    from tqdm import tqdm

    show = sys.stderr.isatty() if enabled is None else enabled
    yield from tqdm(items, total=total, desc=desc, disable=not show, file=sys.stderr, unit=" rows", dynamic_ncols=True)
