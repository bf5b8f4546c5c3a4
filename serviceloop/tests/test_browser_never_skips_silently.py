"""Browser tests never skip silently: a missing chromium fails with the command to install it, and
only an explicit setting skips them — and then the summary says so in words."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
def test_opens_a_page(browser):
    page = browser.new_page()
    page.close()
"""


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_probe.py").write_text(PROBE)
    environment = {k: v for k, v in os.environ.items() if k != "SERVICELOOP_SKIP_BROWSER_TESTS"}
    environment.update(SERVICELOOP_TEST_CHROMIUM=str(tmp_path / "no-chromium-here"), **env)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            "-p",
            "serviceloop.core.testing",
            "-p",
            "no:xdist",
            "-q",
            str(tmp_path / "test_probe.py"),
        ],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
    )


def test_a_missing_chromium_fails_with_the_command_that_installs_it(tmp_path: Path) -> None:
    result = _run(tmp_path)
    assert result.returncode != 0, result.stdout
    assert "apt-get install -y chromium" in result.stdout
    assert "SERVICELOOP_SKIP_BROWSER_TESTS=1" in result.stdout
    assert "1 error" in result.stdout or "1 failed" in result.stdout


def test_skipping_on_purpose_is_said_in_the_summary(tmp_path: Path) -> None:
    result = _run(tmp_path, SERVICELOOP_SKIP_BROWSER_TESTS="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "1 browser test was skipped on purpose" in result.stdout
