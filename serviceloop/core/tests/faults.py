"""Parts the fault tests share: an SMTP server that can be stopped, slowed and started again, the
tally of lost and duplicated mail, and child processes that run the product's own commands.

Every child process runs the code of this checkout (its root is computed from this file and put on
PYTHONPATH, the child's cwd is that root), never whatever `serviceloop` is installed elsewhere.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serviceloop.core.testing import free_port

ROOT = Path(__file__).resolve().parents[3]
PYTHON = sys.executable


@dataclass
class Tally:
    """What a fault test counts: mail promised but never received, and mail received more than once."""

    lost: list[str]
    duplicated: dict[str, int]
    unexpected: list[str]

    def __str__(self) -> str:
        return f"lost {len(self.lost)}, duplicated {len(self.duplicated)}, unexpected {len(self.unexpected)}"


def message_key(value: str) -> str:
    return value.strip().strip("<>").strip().lower()


class _SlowHandler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # The server holds the message this long before it answers 250: a client killed meanwhile
        # never learns that it was accepted (the one window no SMTP client can close).
        if self.box.delay:
            await asyncio.sleep(self.box.delay)
        data: bytes = envelope.original_content or envelope.content
        message = email.message_from_bytes(data, policy=email.policy.default)
        with self.box.lock:
            self.box.received.append(message_key(str(message.get("Message-ID", ""))))
            self.box.messages.append(message)
        return "250 Message accepted for delivery"


@dataclass
class Mailbox:
    """A real SMTP server (aiosmtpd) on a fixed loopback port that a test can stop and start again."""

    port: int = field(default_factory=free_port)
    delay: float = 0.0
    host: str = "127.0.0.1"
    received: list[str] = field(default_factory=list)
    messages: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Any = None

    def start(self) -> Mailbox:
        from aiosmtpd.controller import Controller

        self._controller = Controller(_SlowHandler(self), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.count() < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} mail(s) at the SMTP server within {timeout}s, got {self.count()}"
                )
            time.sleep(0.05)

    def tally(self, expected: Iterable[str]) -> Tally:
        wanted = {message_key(mid) for mid in expected}
        with self.lock:
            seen = collections.Counter(self.received)
        return Tally(
            lost=sorted(wanted - set(seen)),
            duplicated={mid: n for mid, n in seen.items() if n > 1},
            unexpected=sorted(set(seen) - wanted),
        )

    def django_settings(self) -> dict[str, Any]:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": self.host,
            "EMAIL_PORT": self.port,
            "EMAIL_USE_TLS": False,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
        }

    def env(self) -> dict[str, str]:
        """The environment that points a child process's mail at this server."""
        return {
            "SERVICELOOP_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "SERVICELOOP_EMAIL_HOST": self.host,
            "SERVICELOOP_EMAIL_PORT": str(self.port),
            "SERVICELOOP_EMAIL_TIMEOUT": "10",
        }


def child_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A clean environment for the product's commands: this checkout's code, its own data directory."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SERVICELOOP_", "PYTEST_", "DJANGO_", "CELERY_")) and key != "PYTHONPATH"
    }
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "serviceloop.settings",
            "SERVICELOOP_DATA_DIR": str(data_dir),
            "SERVICELOOP_SECRET_KEY": "fault-test-secret-key-not-for-production-0123456789",
            "SERVICELOOP_STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "SERVICELOOP_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def run(argv: Sequence[str], env: dict[str, str], timeout: float = 120) -> str:
    """Run a command of the product to completion; its output, or the failure with its stderr."""
    result = subprocess.run(list(argv), env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def cli(*args: str) -> list[str]:
    return [PYTHON, "-m", "serviceloop.cli", *args]


def celery(*args: str) -> list[str]:
    return [PYTHON, "-m", "celery", "-A", "serviceloop", *args]


@dataclass
class Child:
    """A long-running process of the product (web, worker, beat) in a process group of its own."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, no goodbye: what the OOM killer or a lost machine does."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, grace: float = 10) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.kill()
        else:
            self.process.wait(timeout=1)
        # Children the process left behind in its group (a prefork pool) go too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def stop_all(children: Sequence[Child], grace: float = 10) -> None:
    """SIGTERM to every child at once, then SIGKILL to whatever is still running after `grace`."""
    for child in children:
        if child.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        child.stop(grace=1)


def start(name: str, argv: Sequence[str], env: dict[str, str], log_dir: Path) -> Child:
    log = log_dir / f"{name}.log"
    handle = log.open("ab")
    process = subprocess.Popen(
        list(argv), env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    handle.close()
    return Child(name=name, process=process, log=log)
