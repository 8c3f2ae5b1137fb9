"""The layers: scenarios at the bottom; simulator and optimizer on top of it, independent of each
other; api composes them. Nothing imports upward (checked on the source, every module)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("scenarios", "simulator", "optimizer", "api", "benchmarks")
FORBIDDEN = {
    "scenarios": {"simulator", "optimizer", "api", "benchmarks"},
    "simulator": {"optimizer", "api", "benchmarks"},
    "optimizer": {"simulator", "api", "benchmarks"},
    "api": {"benchmarks"},
}


def _module_name(path: Path) -> list[str]:
    """``simulator/engine.py`` -> ``["salesplan", "simulator", "engine"]`` (package-dir map)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return parts if parts[0] == "salesplan" else ["salesplan", *parts]


def _imports(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            found.add(".".join([*base, *(node.module.split(".") if node.module else [])]))
    return found


def _layers(names: set[str]) -> set[str]:
    return {n.split(".")[1] for n in names if n.startswith("salesplan.") and n.count(".") >= 1}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_upward_or_sideways_imports(package):
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        hits = _layers(_imports(path)) & FORBIDDEN[package]
        if hits:
            bad.append(f"{path.relative_to(ROOT)} imports {', '.join(sorted(hits))}")
    assert not bad, bad


def test_every_import_goes_through_the_salesplan_namespace():
    """``import simulator`` would find the source folder only from the repository root and load a
    second copy of the module beside ``salesplan.simulator``: code and tests never do it."""
    bad = []
    for folder in (*LAYERS, "salesplan", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            hits = {n for n in _imports(path) if n.split(".")[0] in LAYERS}
            if hits:
                bad.append(f"{path.relative_to(ROOT)} imports {', '.join(sorted(hits))}")
    assert not bad, bad


def test_no_global_random_state():
    """No module seeds or draws from numpy's or Python's global generators."""
    bad = []
    for package in ("scenarios", "simulator", "optimizer", "api"):
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for needle in ("np.random.seed(", "np.random.rand", "np.random.normal(",
                           "np.random.choice(", "random.seed(", "random.random("):
                if needle in text:
                    bad.append(f"{path.relative_to(ROOT)}: {needle}")
    assert not bad, bad
