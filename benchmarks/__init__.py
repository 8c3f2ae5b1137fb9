"""Runnable performance benchmarks (``python -m salesplan.benchmarks.<name>``); not part of the
tests."""
