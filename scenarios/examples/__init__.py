"""The shipped example scenarios (``small.yaml``, ``midmarket.yaml`` with their CSV tables) and
the script that rebuilds them (``python -m salesplan.scenarios.examples.build``)."""

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent
"""The folder holding the example files (in the installed package, or the source tree when the
install is editable)."""

__all__ = ["EXAMPLES"]
