"""``salesplan bench perf`` runs the engines' performance benchmarks: each entry is a benchmark
module whose ``main(argv)`` accepts the arguments the command passes (checked by parsing them
with the module's own parser, without running the benchmark)."""

from __future__ import annotations

import argparse
import importlib

import pytest

from salesplan.api.cli.commands.bench import PERF


class _ParsedError(Exception):
    pass


@pytest.mark.parametrize("title, module, full, quick", PERF, ids=[p[0] for p in PERF])
def test_perf_entries_parse_their_arguments(monkeypatch, title, module, full, quick):
    mod = importlib.import_module(module)
    seen = []

    def stop(self, args=None, namespace=None):
        seen.append(original(self, args, namespace))
        raise _ParsedError

    original = argparse.ArgumentParser.parse_args
    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", stop)
    for argv in (full, quick):
        with pytest.raises(_ParsedError):
            mod.main(list(argv))
    assert len(seen) == 2
