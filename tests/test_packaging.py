"""One installed namespace: the folders at the top of the repository are the subpackages of
``salesplan`` (pyproject's package-dir map), and the engines load no optional dependency."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import salesplan

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
OPTIONAL = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "dask", "distributed", "matplotlib")


def _package_folders() -> set[str]:
    """Every folder holding an ``__init__.py``, as the package name it installs under."""
    dirs = SETUPTOOLS["package-dir"]
    names = set()
    for name, folder in dirs.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            names.add(".".join([name, *rel]))
    return names


def test_every_package_folder_is_listed_and_nothing_else():
    assert set(SETUPTOOLS["packages"]) == _package_folders()
    assert all(p == "salesplan" or p.startswith("salesplan.") for p in SETUPTOOLS["packages"])


def test_version_is_the_distribution_version():
    from importlib.metadata import version

    assert salesplan.__version__ == version("salesplan")


def test_the_console_script_points_into_the_namespace():
    assert PYPROJECT["project"]["scripts"]["salesplan"] == "salesplan.api.cli:run"


def test_engines_load_no_optional_dependency():
    """``from salesplan.simulator import simulate`` in a notebook loads neither the web stack,
    Dask, matplotlib nor the CLI's typer and rich."""
    code = ("import sys; import salesplan.simulator, salesplan.optimizer, salesplan.scenarios; "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True, cwd="/").stdout.split())
    assert not loaded & {*OPTIONAL, "typer", "rich"}, loaded & {*OPTIONAL, "typer", "rich"}


def test_extras_name_every_optional_dependency():
    extras = PYPROJECT["project"]["optional-dependencies"]
    required = " ".join(PYPROJECT["project"]["dependencies"])
    for dist in ("fastapi", "uvicorn", "sqlalchemy", "matplotlib", "dask"):
        assert dist not in required, f"{dist} must be an extra, not a required dependency"
    assert {"plots", "service", "dask", "all", "dev"} <= set(extras)
