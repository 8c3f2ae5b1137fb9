"""Runnable performance benchmarks (``python -m benchmarks.<name>``); not part of the tests."""
