"""The `serviceloop` command and production settings, run as an operator would (subprocesses)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # An operator's shell: none of the test run's own SERVICELOOP_*/DJANGO_* settings leak in.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SERVICELOOP_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _production(tmp_path: Path) -> dict[str, str]:
    return {
        "SERVICELOOP_DATA_DIR": str(tmp_path),
        "SERVICELOOP_SECURE": "true",
        "SERVICELOOP_DEBUG": "false",
        "SERVICELOOP_SECRET_KEY": secrets.token_urlsafe(60),
        "SERVICELOOP_ALLOWED_HOSTS": "service.example",
        "SERVICELOOP_SITE_URL": "https://service.example",
        "SERVICELOOP_STATICFILES_STORAGE": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    }


@pytest.mark.parametrize("command", [("manage.py",), ("-m", "serviceloop.cli", "manage")], ids=["manage.py", "cli"])
def test_check_deploy_is_clean_with_production_settings(tmp_path: Path, command: tuple[str, ...]) -> None:
    # Nothing is silenced (SILENCED_SYSTEM_CHECKS is unset): every deploy check passes on its merits.
    result = _run(*command, "check", "--deploy", "--fail-level", "WARNING", env=_production(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


def test_check_deploy_fails_without_tls_settings(tmp_path: Path) -> None:
    result = _run(
        "manage.py", "check", "--deploy", "--fail-level", "WARNING",
        env={"SERVICELOOP_DATA_DIR": str(tmp_path), "SERVICELOOP_SECURE": "false"},
    )  # fmt: skip
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT" in result.stdout + result.stderr


@pytest.mark.parametrize("command", ["run", "serve", "worker", "beat", "migrate", "demo", "createadmin", "manage"])
def test_every_subcommand_explains_itself(command: str) -> None:
    result = _run("-m", "serviceloop.cli", command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: serviceloop" in result.stdout


def test_createadmin_refuses_a_weak_password_with_a_clear_message(tmp_path: Path) -> None:
    env = {"SERVICELOOP_DATA_DIR": str(tmp_path)}
    assert _run("-m", "serviceloop.cli", "migrate", env=env).returncode == 0
    result = _run("-m", "serviceloop.cli", "createadmin", "boss@provider.example", "--password", "password", env=env)
    assert result.returncode == 2
    assert "too common" in result.stderr


def test_createadmin_creates_an_administrator_who_can_sign_in(tmp_path: Path) -> None:
    env = {"SERVICELOOP_DATA_DIR": str(tmp_path)}
    assert _run("-m", "serviceloop.cli", "migrate", env=env).returncode == 0
    result = _run(
        "-m", "serviceloop.cli", "createadmin", "boss@provider.example", "--password", "a-long-and-rare-one-81", env=env
    )
    assert result.returncode == 0, result.stderr
    check = _run(
        "manage.py", "shell", "-c",
        "from django.contrib.auth import authenticate;"
        "u = authenticate(username='boss@provider.example', password='a-long-and-rare-one-81');"
        "print(u.role if u else 'none')",
        env=env,
    )  # fmt: skip
    assert check.stdout.strip().splitlines()[-1] == "administrator"


def test_serve_refuses_to_start_while_migrations_are_pending(tmp_path: Path) -> None:
    # Many web processes start at once in production; none of them may migrate on its own.
    result = _run("-m", "serviceloop.cli", "serve", "--port", "0", env={"SERVICELOOP_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "run 'serviceloop migrate'" in result.stderr
    assert not (tmp_path / "static" / "staticfiles.json").exists()


# ---------------------------------------------------------------- the media storage

_SHOW_STORAGE = (
    "from django.core.files.storage import default_storage as s; "
    "print(s.__class__.__name__, getattr(s, 'bucket_name', ''), getattr(s, 'location', ''), getattr(s, 'endpoint_url', ''))"
)


def test_s3_media_storage_without_a_bucket_refuses_to_start_with_a_clear_message(tmp_path: Path) -> None:
    result = _run("manage.py", "check", env={"SERVICELOOP_DATA_DIR": str(tmp_path), "SERVICELOOP_MEDIA_STORAGE": "s3"})
    assert result.returncode != 0
    assert "ImproperlyConfigured: SERVICELOOP_MEDIA_STORAGE=s3 needs SERVICELOOP_S3_BUCKET" in result.stderr


def test_an_unknown_media_storage_refuses_to_start_with_a_clear_message(tmp_path: Path) -> None:
    result = _run("manage.py", "check", env={"SERVICELOOP_DATA_DIR": str(tmp_path), "SERVICELOOP_MEDIA_STORAGE": "nfs"})
    assert result.returncode != 0
    assert "SERVICELOOP_MEDIA_STORAGE='nfs' is not known: use 'filesystem' (the default) or 's3'" in result.stderr


@pytest.mark.parametrize("value", ["sixty", "-1", "Infinity"])
def test_an_hourly_cost_that_is_no_amount_refuses_to_start_with_a_clear_message(tmp_path: Path, value: str) -> None:
    result = _run("manage.py", "check", env={"SERVICELOOP_DATA_DIR": str(tmp_path), "SERVICELOOP_HOURLY_COST": value})
    assert result.returncode != 0
    assert f"SERVICELOOP_HOURLY_COST is an amount of zero or more, e.g. 60 or 72.50, not '{value}'" in result.stderr


def test_the_hourly_cost_and_currency_come_from_the_environment(tmp_path: Path) -> None:
    show = "from django.conf import settings as s; print(repr(s.SERVICELOOP_HOURLY_COST), s.SERVICELOOP_CURRENCY)"
    env = {"SERVICELOOP_DATA_DIR": str(tmp_path)}
    assert _run("manage.py", "shell", "-c", show, env=env).stdout.strip().splitlines()[-1] == "Decimal('60') EUR"
    env |= {"SERVICELOOP_HOURLY_COST": "72.50", "SERVICELOOP_CURRENCY": "gbp"}
    assert _run("manage.py", "shell", "-c", show, env=env).stdout.strip().splitlines()[-1] == "Decimal('72.50') GBP"


def test_an_s3_access_key_without_its_secret_refuses_to_start(tmp_path: Path) -> None:
    result = _run(
        "manage.py", "check",
        env={
            "SERVICELOOP_DATA_DIR": str(tmp_path),
            "SERVICELOOP_MEDIA_STORAGE": "s3",
            "SERVICELOOP_S3_BUCKET": "media",
            "SERVICELOOP_S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
        },
    )  # fmt: skip
    assert result.returncode != 0
    assert "Set both SERVICELOOP_S3_ACCESS_KEY_ID and SERVICELOOP_S3_SECRET_ACCESS_KEY" in result.stderr


def test_s3_media_storage_is_the_bucket_from_the_environment(tmp_path: Path) -> None:
    environment = {
        "SERVICELOOP_DATA_DIR": str(tmp_path),
        "SERVICELOOP_MEDIA_STORAGE": "s3",
        "SERVICELOOP_S3_BUCKET": "serviceloop-media",
        "SERVICELOOP_S3_PREFIX": "/production/",
        "SERVICELOOP_S3_ENDPOINT_URL": "http://minio.internal:9000",
    }
    result = _run("manage.py", "shell", "--no-imports", "-c", _SHOW_STORAGE, env=environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [
        "S3Storage",
        "serviceloop-media",
        "production",
        "http://minio.internal:9000",
    ]


def test_the_embedded_default_keeps_media_in_the_data_directory(tmp_path: Path) -> None:
    result = _run(
        "manage.py", "shell", "--no-imports", "-c", _SHOW_STORAGE, env={"SERVICELOOP_DATA_DIR": str(tmp_path)}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["FileSystemStorage", str(tmp_path / "media")]


def test_the_experience_rebuild_command_is_mounted_and_explains_itself() -> None:
    result = _run("-m", "serviceloop.cli", "experience", "rebuild", "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: serviceloop experience rebuild" in result.stdout
    assert "--since YYYY-MM-DD" in result.stdout and "--service SLUG" in result.stdout
