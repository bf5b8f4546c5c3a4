"""The data directory is created by the commands that run the product, never by reading the settings."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from serviceloop.core.data_dir import data_dir_prepare, secret_key_in
from serviceloop.core.tests.faults import ROOT


def _fresh_env(data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SERVICELOOP_", "PYTEST_", "DJANGO_", "CELERY_")) and key != "PYTHONPATH"
    }
    env.update({"PYTHONPATH": str(ROOT), "SERVICELOOP_DATA_DIR": str(data_dir)})
    return env


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_reading_the_settings_and_setting_up_django_creates_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    script = (
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'serviceloop.settings'; django.setup(); "
        "from django.conf import settings; print(settings.DATA_DIR, settings.DATABASES['default']['NAME'])"
    )
    result = _run([sys.executable, "-c", script], tmp_path, _fresh_env(data_dir))
    assert result.returncode == 0, result.stderr
    assert str(data_dir) in result.stdout
    assert list(tmp_path.iterdir()) == [], "no ./var, no data directory"


def test_a_command_that_runs_the_product_creates_the_data_directory_with_a_private_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    serviceloop = Path(sys.executable).with_name("serviceloop")
    result = _run([str(serviceloop), "manage", "check"], tmp_path, _fresh_env(data_dir))
    assert result.returncode == 0, result.stderr
    key_file = data_dir / "secret_key"
    assert (data_dir / "static").is_dir() and len(secret_key_in(data_dir)) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    first = secret_key_in(data_dir)
    assert _run([str(serviceloop), "manage", "check"], tmp_path, _fresh_env(data_dir)).returncode == 0
    assert secret_key_in(data_dir) == first, "the generated key is kept, not replaced"


def test_processes_starting_at_once_share_one_secret_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICELOOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SERVICELOOP_SECRET_KEY", raising=False)
    start = threading.Barrier(8)
    keys: list[str] = []

    def prepare() -> None:
        start.wait()
        keys.append(secret_key_in(data_dir_prepare()))

    threads = [threading.Thread(target=prepare) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and keys[0]
    assert sorted(path.name for path in (tmp_path / "data").iterdir()) == ["secret_key", "static"]
