"""The scenario commands of the CLI: exit codes, messages, no tracebacks for user errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from _docs import base_doc

from salesplan.api.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "scenarios" / "examples"


def test_validate_ok(capsys):
    assert main(["validate", str(EXAMPLES / "small.yaml")]) == 0
    out = capsys.readouterr().out
    assert "valid scenario 'small'" in out and "6 reps" in out and "100 accounts" in out


def test_validate_reports_every_error_and_exits_2(tmp_path, capsys):
    doc = base_doc()
    doc["stages"][2]["conversion"] = 1.3
    doc["reps"][1]["region"] = "Northwest"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert "stages[proposal].conversion: must be in [0, 1], got 1.3" in captured.err
    assert "reps[R17].region: 'Northwest' is not a defined region" in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_usage_errors_exit_2(capsys):
    assert main(["validate"]) == 2
    assert main(["no-such-command"]) == 2


def test_schema_prints_json(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "Scenario"


def test_describe_shows_regions_funnel_leads_target(capsys):
    assert main(["describe", str(EXAMPLES / "small.yaml")]) == 0
    out = capsys.readouterr().out
    for text in ("North", "South", "cumulative_conversion", "21.0%", "2027-12", "$1,620,000"):
        assert text in out


def test_console_script_exit_code_and_no_traceback(tmp_path):
    """The installed entry point exits 2 with the message only."""
    proc = subprocess.run([sys.executable, "-m", "salesplan", "validate", str(tmp_path / "x.yaml")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "not found" in proc.stderr and "Traceback" not in proc.stderr
