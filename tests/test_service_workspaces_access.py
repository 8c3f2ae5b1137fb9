"""The service's front door (issue #19, item 5): failed authentication rate-limited per client
(429 with Retry-After, then recovery), CORS off by default and on when configured, the docs
pages working with no network (their assets served locally), ``HEAD /health``."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient
from test_service_support import make_app, new_key

from salesplan.api.service import Settings
from salesplan.api.service.ratelimit import FailureLimiter

BAD = {"X-API-Key": "sp_00000000_" + "a" * 43}


def test_limiter_counts_failures_in_a_sliding_window():
    now = [100.0]
    limiter = FailureLimiter(3, 10.0, clock=lambda: now[0])
    for _ in range(2):
        limiter.failed("1.2.3.4")
    assert limiter.retry_after("1.2.3.4") is None
    limiter.failed("1.2.3.4")
    assert limiter.retry_after("1.2.3.4") == 10
    assert limiter.retry_after("5.6.7.8") is None  # per client
    now[0] += 4.2
    assert limiter.retry_after("1.2.3.4") == 6  # until the oldest failure leaves the window
    now[0] += 5.9
    assert limiter.retry_after("1.2.3.4") is None
    assert limiter._failures == {}  # forgotten once the window has passed


def test_repeated_bad_keys_get_429_with_retry_after_then_recover(tmp_path):
    app = make_app(tmp_path, run_pool=False, auth_failure_limit=5, auth_failure_window=0.6)
    good = {"X-API-Key": new_key(app)}
    attacker = TestClient(app, client=("10.0.0.66", 4000))
    neighbour = TestClient(app, client=("10.0.0.7", 4000))
    # successful requests and missing keys never count
    for _ in range(30):
        assert attacker.get("/v1/scenarios", headers=good).status_code == 200
        assert attacker.get("/v1/scenarios").status_code == 401
    for _ in range(5):
        r = attacker.get("/v1/scenarios", headers=BAD)
        assert r.status_code == 401
    r = attacker.get("/v1/scenarios", headers=BAD)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "1"
    assert "too many failed authentications" in r.json()["detail"]
    # blocked: even a right key is not checked (no oracle for a brute force), on every route
    assert attacker.get("/v1/runs", headers=good).status_code == 429
    assert attacker.post("/v1/scenarios", json={}, headers=BAD).status_code == 429
    # other clients are unaffected, and the open routes stay open
    assert neighbour.get("/v1/scenarios", headers=good).status_code == 200
    assert neighbour.get("/v1/scenarios", headers=BAD).status_code == 401
    assert attacker.get("/health").status_code == 200
    time.sleep(0.7)  # the window passes
    assert attacker.get("/v1/scenarios", headers=good).status_code == 200
    assert attacker.get("/v1/scenarios", headers=BAD).status_code == 401


def test_rate_limit_settings_come_from_the_environment():
    s = Settings.from_env({"SALESPLAN_AUTH_FAILURE_LIMIT": "7",
                           "SALESPLAN_AUTH_FAILURE_WINDOW": "30"})
    assert (s.auth_failure_limit, s.auth_failure_window) == (7, 30.0)
    assert (Settings().auth_failure_limit, Settings().auth_failure_window) == (20, 60.0)


def test_429_is_in_the_openapi_spec(tmp_path):
    spec = make_app(tmp_path, run_pool=False).openapi()
    assert "429" in spec["paths"]["/v1/scenarios"]["get"]["responses"]
    assert "403" in spec["paths"]["/v1/keys"]["post"]["responses"]


PREFLIGHT = {"Origin": "https://plan.example.com", "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "x-api-key,content-type"}


def test_cors_is_off_by_default(tmp_path):
    app = make_app(tmp_path, run_pool=False)
    client = TestClient(app)
    h = {"X-API-Key": new_key(app), "Origin": "https://plan.example.com"}
    r = client.get("/v1/scenarios", headers=h)
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    r = client.options("/v1/scenarios", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in r.headers


def test_cors_allows_the_configured_origins_only(tmp_path):
    settings = Settings.from_env(
        {"SALESPLAN_CORS_ORIGINS": "https://plan.example.com, https://bi.example.com/"},
        data_dir=tmp_path)
    assert settings.cors_origins == ("https://plan.example.com", "https://bi.example.com")
    app = make_app(tmp_path, run_pool=False, cors_origins=settings.cors_origins)
    client = TestClient(app)
    key = new_key(app)
    r = client.options("/v1/scenarios", headers=PREFLIGHT)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://plan.example.com"
    assert "x-api-key" in r.headers["access-control-allow-headers"].lower()
    r = client.get("/v1/scenarios", headers={"X-API-Key": key,
                                             "Origin": "https://bi.example.com"})
    assert r.headers["access-control-allow-origin"] == "https://bi.example.com"
    r = client.get("/v1/scenarios", headers={"X-API-Key": key,
                                             "Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in r.headers
    r = client.options("/v1/scenarios", headers={**PREFLIGHT,
                                                 "Origin": "https://evil.example.com"})
    assert r.status_code == 400


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_their_assets_from_this_server(tmp_path, page):
    client = TestClient(make_app(tmp_path, run_pool=False))
    r = client.get(page)
    assert r.status_code == 200
    html = r.text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    urls += re.findall(r"""(?:url|spec-url)\s*[:=]\s*["']([^"']+)["']""", html)
    assert urls, html
    assert not [u for u in urls if "://" in u or u.startswith("//")], urls  # nothing remote
    assert "cdn" not in html.lower() and "fonts.googleapis" not in html
    scripts = [u for u in urls if u.endswith(".js")]
    assert scripts and all(u.startswith("/docs-assets/") for u in scripts)
    for url in set(urls):
        got = client.get(url)
        assert got.status_code == 200, url
        assert len(got.content) > 100, url
    if page == "/docs":
        assert "/docs-assets/swagger-ui.css" in urls
        js = client.get("/docs-assets/swagger-ui-bundle.js")
        assert js.headers["content-type"].startswith("text/javascript")
        assert b"SwaggerUIBundle" in js.content


def test_docs_assets_are_a_fixed_list(tmp_path):
    client = TestClient(make_app(tmp_path, run_pool=False))
    assert client.get("/docs-assets/__init__.py").status_code == 404
    assert client.get("/docs-assets/..%2Fcore.py").status_code == 404


def test_docs_urls_follow_the_root_path_behind_a_proxy(tmp_path):
    client = TestClient(make_app(tmp_path, run_pool=False), root_path="/salesplan")
    html = client.get("/docs").text
    assert "/salesplan/docs-assets/swagger-ui-bundle.js" in html
    assert "/salesplan/openapi.json" in html


def test_head_health(tmp_path):
    app = make_app(tmp_path, run_pool=False)
    client = TestClient(app)
    r = client.head("/health")
    assert r.status_code == 200 and r.content == b""
    assert client.get("/health").json()["status"] == "ok"
    assert set(app.openapi()["paths"]["/health"]) == {"get"}


def test_docs_fall_back_to_the_cdn_with_a_warning_without_fastapi_offline(tmp_path,
                                                                           monkeypatch, caplog):
    from salesplan.api.service import app as app_module

    def missing():
        raise ModuleNotFoundError("No module named 'fastapi_offline'")

    monkeypatch.setattr(app_module, "_docs_assets_dir", missing)
    with caplog.at_level("WARNING", logger="salesplan.service"):
        client = TestClient(make_app(tmp_path, run_pool=False))
    assert "fastapi-offline is not installed" in caplog.text
    r = client.get("/docs")
    assert r.status_code == 200 and "https://" in r.text
    assert client.get("/docs-assets/swagger-ui.css").status_code == 404
