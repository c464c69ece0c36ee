"""What the project's own code imports is installed in production: the image installs the project's dependencies
only, not the dev extras (pytest, Playwright, ...), so a module the app needs must not live there."""

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
APP_DIRS = ("linktrack", "campaigns", "delivery", "insights")


def _imported_top_level_modules() -> dict[str, str]:
    """Every top-level module the app's code imports, with one file that imports it."""
    found: dict[str, str] = {}
    for directory in APP_DIRS:
        for path in (ROOT / directory).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def _names(requirements: list[str]) -> set[str]:
    return {Requirement(requirement).name.lower().replace("_", "-") for requirement in requirements}


def test_every_third_party_module_the_app_imports_is_a_production_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    production = _names(project["dependencies"])
    distributions = packages_distributions()
    ours = {*APP_DIRS, "tests"}
    missing = {}
    for module, where in _imported_top_level_modules().items():
        if module in ours or module in sys.stdlib_module_names:
            continue
        names = {name.lower().replace("_", "-") for name in distributions.get(module, [module])}
        if not names & production and not _installed_with_a_dependency(names, production):
            missing[module] = where
    assert not missing, f"imported by the app but not in [project] dependencies: {missing}"


def _installed_with_a_dependency(names: set[str], production: set[str]) -> bool:
    """kombu comes with celery, asgiref and sqlparse with Django: required by a declared dependency."""
    from importlib.metadata import requires

    for dependency in production:
        for requirement in requires(dependency) or []:
            parsed = Requirement(requirement)
            if parsed.marker is None and parsed.name.lower().replace("_", "-") in names:
                return True
    return False
