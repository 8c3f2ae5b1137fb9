"""The web app's files and how the service serves them (no browser): the page at ``/`` with its
security headers, assets only from the app's folder, every ES module import resolving to a
shipped file, the package data listing every file, and the browser tests' Chromium rule (skip
locally, fail under CI)."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import _webapp
import pytest
from fastapi.testclient import TestClient
from test_service_support import make_app

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "api" / "web"
IMPORT = re.compile(r"""(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+["'](\.[^"']+)["']""")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("web"), run_pool=False)
    with TestClient(app) as c:
        yield c


def test_the_page_is_served_at_the_root_with_its_security_headers(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="app/main.js">' in r.text
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp  # no inline script or style anywhere
    assert r.headers["x-content-type-options"] == "nosniff"
    assert client.head("/").status_code == 200


def test_the_page_refers_only_to_relative_urls_so_a_path_prefix_works():
    """No URL in the page or its modules starts with '/' (a proxy's prefix would be lost)."""
    html = (WEB / "index.html").read_text()
    assert not re.findall(r'(?:src|href)="/', html)
    for js in (WEB / "app").rglob("*.js"):
        text = js.read_text()
        assert not re.findall(r"""fetch\(\s*["'`]/""", text), js
        assert not re.findall(r"""["'`]/v1/""", text), js


@pytest.mark.parametrize("path,media", [("app/main.js", "text/javascript"),
                                        ("app/pages/whatif.js", "text/javascript"),
                                        ("app/style.css", "text/css")])
def test_assets_are_served_with_their_type(client, path, media):
    r = client.get("/" + path)
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)


@pytest.mark.parametrize("path", ["app/missing.js", "app/../__init__.py", "app/%2e%2e/__init__.py",
                                  "app/..%2f__init__.py", "app/pages", "app/index.html"])
def test_nothing_but_the_apps_files_is_served(client, path):
    r = client.get("/" + path)
    assert r.status_code == 404, path
    assert "import" not in r.text  # no Python source leaks


def test_every_module_import_resolves_to_a_shipped_file():
    for js in (WEB / "app").rglob("*.js"):
        for target in IMPORT.findall(js.read_text()):
            assert (js.parent / target).resolve().is_file(), f"{js.name} imports {target}"


def test_the_package_data_lists_every_file_of_the_app():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["salesplan.api.web"]
    for f in WEB.rglob("*"):
        if f.is_file() and f.suffix not in (".py", ".pyc"):
            rel = f.relative_to(WEB).as_posix()
            assert any(fnmatch(rel, g) for g in globs), f"{rel} is not in the package data"


def test_without_chromium_the_browser_tests_skip_locally_and_fail_in_ci(monkeypatch):
    monkeypatch.setattr(_webapp.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Chromium found"):
        _webapp.chromium_path()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"\.ci/run installs it"):
        _webapp.chromium_path()
