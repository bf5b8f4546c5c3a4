"""Helpers for the `serviceloop` command's subcommands, which apps contribute in `commands.py`."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def setup_django(*, data_dir: bool = True) -> None:
    """Django set up for a command; `data_dir=False` for a command that only reads, which then
    creates no data directory (and has no generated secret key)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceloop.settings")
    if data_dir:
        from serviceloop.core.data_dir import data_dir_prepare

        data_dir_prepare()
    import django

    django.setup()


def progress(
    items: Iterable[T], *, total: int | None = None, desc: str = "", enabled: bool | None = None, unit: str = " rows"
) -> Iterator[T]:
    """A progress bar on the terminal (stderr), nothing when output goes to a file or a pipe."""
    from tqdm import tqdm

    show = sys.stderr.isatty() if enabled is None else enabled
    yield from tqdm(items, total=total, desc=desc, disable=not show, file=sys.stderr, unit=unit, dynamic_ncols=True)
