"""The architecture's import rules (import-linter contracts in pyproject.toml) hold, and they do catch a wrong
import: the same check run on a copy of the code with one import pointing up fails and names the rule."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
APPS = ("campaigns", "delivery", "insights", "linktrack")


def lint_imports(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=where, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_import_pointing_up_breaks_them(tmp_path):
    # given a copy of the code where the ground floor imports insights
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    clock = tmp_path / "campaigns" / "base" / "clock.py"
    clock.write_text(clock.read_text() + "\nfrom insights.reports import selectors  # noqa: E402, F401\n")

    result = lint_imports(tmp_path)

    assert result.returncode != 0
    assert "campaigns.base.clock -> insights.reports.selectors" in result.stdout
    assert "BROKEN" in result.stdout
