"""HiGHS's once-per-process banner does not reach the CLI's output (it used to interleave with
tables and progress bars), and solving still works after it is swallowed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "examples" / "small.yaml"


def test_align_output_has_no_highs_banner(tmp_path):
    run = subprocess.run([sys.executable, "-m", "salesplan", "align", str(SMALL), "--out",
                          str(tmp_path / "a")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Running HiGHS" not in run.stdout + run.stderr
    assert (tmp_path / "a" / "assignment.csv").is_file()


def test_a_bare_solver_does_print_it(tmp_path):
    """The check above can fail: a process that builds a HiGHS object without the silencer
    prints the banner."""
    code = "import highspy; highspy.Highs()"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert "Running HiGHS" in run.stdout
