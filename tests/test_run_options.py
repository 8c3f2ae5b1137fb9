"""One definition of every run kind's options (``salesplan.api.options``), shared by the CLI and
the service: every option of every run-kind command maps to a field of its kind's model with the
same default and, where the CLI declares a range, the same bounds; every field maps back to an
option; the CLI reports the model's errors on one line by flag."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import pytest
import typer.main
from annotated_types import Ge, Gt, Le, Lt

from salesplan.api.cli import app, main
from salesplan.api.options import OPTIONS, AlignOptions, QuotasOptions, TrackOptions

EXAMPLES = Path(__file__).resolve().parents[1] / "scenarios" / "examples"

NOT_OPTIONS = {
    "file": "the scenario file: a run's scenario version in the service",
    "out_dir": "the output folder: the service serves the files (GET /v1/runs/{id}/files, "
               "/download)",
    "workers": "processes per command: each service run uses one, the run pool runs several",
}
"""CLI parameters of run-kind commands that are not options of the run, and why."""

FILES = {("simulate", "quotas"), ("comp", "quotas"), ("align", "travel"), ("quotas", "pins"),
         ("whatif", "against"), ("track", "history"), ("track", "targets"),
         ("track", "quotas"), ("track", "teams"), ("track", "scenario"),
         ("track", "history_file"), ("track", "products")}
"""Options that are files on the CLI: a path there; a file of the scenario version (or, for
rep quotas, an inline mapping) in the service. Their CLI default is None like the model's."""


def _cli_value(kind: str, name: str, value):
    """A CLI default as the model holds it (the CLI's text forms parsed as the commands do)."""
    from salesplan.api.cli.commands.quotas import parse_peer_band
    from salesplan.optimizer import parse_balance

    if isinstance(value, Enum):
        return value.value
    if (kind, name) == ("align", "balance"):
        return {b.metric: b.tolerance for b in parse_balance(value)}
    if (kind, name) == ("quotas", "peer_band"):
        return parse_peer_band(value)
    if (kind, name) == ("quotas", "by"):
        return value.split(",")
    return value


def _commands():
    group = typer.main.get_command(app)
    return {kind: group.commands[kind] for kind in OPTIONS}


def test_every_run_kind_has_a_command_and_a_model():
    assert set(_commands()) == set(OPTIONS) == {"simulate", "align", "quotas", "comp",
                                                "whatif", "plan-headcount", "track"}


@pytest.mark.parametrize("kind", sorted(OPTIONS))
def test_cli_options_and_model_fields_are_the_same(kind):
    command, model = _commands()[kind], OPTIONS[kind]
    params = {p.name: p for p in command.params if p.name not in NOT_OPTIONS}
    assert set(params) == set(model.model_fields), (
        f"{kind}: CLI only {sorted(set(params) - set(model.model_fields))}, model only "
        f"{sorted(set(model.model_fields) - set(params))}")
    for name, param in params.items():
        field = model.model_fields[name]
        if not field.is_required():
            default = field.get_default(call_default_factory=True)
            assert _cli_value(kind, name, param.default) == (
                list(default) if isinstance(default, tuple) and name == "by" else default), \
                f"{kind} --{name}: CLI default {param.default!r}, model {default!r}"
        if (kind, name) in FILES:
            assert param.default is None
        bounds = {type(m): m for m in field.metadata}
        low, high = getattr(param, "min", None), getattr(param, "max", None)
        if low is not None:
            assert (Ge in bounds and bounds[Ge].ge == low) or (Gt in bounds and
                                                               bounds[Gt].gt == low), \
                f"{kind} --{name}: CLI min {low}, model {bounds}"
        if high is not None:
            assert (Le in bounds and bounds[Le].le == high) or (Lt in bounds and
                                                                bounds[Lt].lt == high), \
                f"{kind} --{name}: CLI max {high}, model {bounds}"


def test_cli_flags_are_the_field_names():
    """``--max-moved-potential`` is ``max_moved_potential``: one name on both sides."""
    for kind, command in _commands().items():
        for p in command.params:
            if p.name in NOT_OPTIONS or not getattr(p, "opts", None):
                continue
            if type(p).__name__ == "TyperArgument":
                continue
            assert f"--{p.name.replace('_', '-')}" in p.opts, (kind, p.name, p.opts)


@pytest.mark.parametrize(("argv", "says"), [
    (["quotas", "--by", "product,colour"], "--by: unknown split dimension(s) colour"),
    (["quotas", "--pins", "p.csv", "--compare-methods"],
     "--pins fix one plan's quotas; --compare-methods compares the methods"),
    (["align", "--mode", "carve", "--max-moves", "3"],
     "--max-moves and --max-moved-potential need --mode realign"),
    (["align", "--time-limit", "5000"], "--time-limit: Input should be less than or equal to "
                                        "3600"),
    (["comp", "--budget-cost-of-sales", "0.2", "--share-at-quota", "0.7,0.6"],
     "--share-at-quota must satisfy 0 <= LO <= HI <= 1"),
    (["whatif", "--variants", "a", "--quota-method", "nope"],
     "--quota-method: unknown quota method 'nope'"),
])
def test_model_errors_are_one_line_by_flag(tmp_path, capsys, argv, says):
    code = main([argv[0], str(EXAMPLES / "small.yaml"), *argv[1:], "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert says in err
    assert "Traceback" not in err and err.strip().count("\n") == 0


def test_track_asof_must_be_a_date(tmp_path, capsys):
    code = main(["track", "history.csv", "--asof", "15/11/2017", "--targets", "t.csv",
                 "--out", str(tmp_path)])
    assert code == 2
    assert "--asof: must be a date YYYY-MM-DD, got '15/11/2017'" in capsys.readouterr().err


def test_model_rules_hold_for_the_service_too():
    """The rules checked across fields live in the models, so the service applies them."""
    with pytest.raises(ValueError, match="need `mode` realign"):
        AlignOptions(mode="carve", max_moved_potential=1.0)
    with pytest.raises(ValueError, match="one of `targets` and `quotas`"):
        TrackOptions(history="h.csv", asof="2017-11-15", targets="t.csv", quotas="q.csv")
    assert QuotasOptions(peer_band=(0.25, None)).bounds().peer_band == (0.25, float("inf"))
    with pytest.raises(ValueError, match="split by one period only"):
        QuotasOptions(by=["month", "quarter"])
