"""``salesplan apikey create|list|revoke`` and ``serve --help`` through the real CLI."""

from __future__ import annotations

from fastapi.testclient import TestClient
from test_service_support import make_app

from salesplan.api.cli import main


def test_apikey_commands(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    monkeypatch.setenv("SALESPLAN_DATABASE_URL", url)
    assert main(["apikey", "create", "alice"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("sp_")
    assert main(["apikey", "create", "alice"]) == 2  # duplicate name: a user error
    assert "already exists" in capsys.readouterr().err
    assert main(["apikey", "list"]) == 0
    listing = capsys.readouterr().out
    assert "alice" in listing and "active" in listing and key not in listing

    app = make_app(tmp_path, run_pool=False, database_url=url)
    client = TestClient(app)
    assert client.get("/v1/scenarios", headers={"X-API-Key": key}).status_code == 200
    assert main(["apikey", "revoke", "alice", "--database", url]) == 0
    assert client.get("/v1/scenarios", headers={"X-API-Key": key}).status_code == 401
    assert main(["apikey", "revoke", "nobody"]) == 2


def test_serve_help(capsys):
    assert main(["serve", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--host", "--port", "--database", "--workers"):
        assert option in text


def test_bad_database_is_a_user_error(capsys):
    assert main(["apikey", "list", "--database", "nonsense"]) == 2
    assert "invalid database URL" in capsys.readouterr().err
    assert main(["apikey", "list", "--database", "postgresql+nodriver://u@h/db"]) == 2
