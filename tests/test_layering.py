"""The layers: scenarios at the bottom; simulator and optimizer on top of it, independent of each
other; api composes them. Nothing imports upward (checked on the source, every module)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "scenarios": {"simulator", "optimizer", "api"},
    "simulator": {"optimizer", "api"},
    "optimizer": {"simulator", "api"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_upward_or_sideways_imports(package):
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        hits = _imports(path) & FORBIDDEN[package]
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
