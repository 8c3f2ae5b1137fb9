"""The web app in a real headless Chromium (Playwright for Python, driving the system's
Chromium) against a real ``salesplan serve`` on a free port with a temporary database.

End to end: sign in, upload small.yaml, build the variant "hire 2 in North from month 3", run
it and check that the headline P(hit) and bookings on the page are the API's JSON for the same
run; an align result's map and moves list; a wrong key; an invalid lever value answered by the
API beside its field; the planner pages; tablet width. Every page is screenshotted at 1280x800
into tests/.screenshots/ (git-ignored).
"""

from __future__ import annotations

import re

import httpx
import pytest
from _webapp import (
    EXAMPLES,
    SCREENSHOTS,
    chromium_path,
    live_server,
    money_short,
    pct,
    points,
    upload_small,
    wait_run,
)

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed "
                                     "(pip install -e '.[dev]')")

DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 820, "height": 1180}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with live_server(tmp_path_factory.mktemp("webapp")) as (base, keys):
        yield base, keys


@pytest.fixture(scope="module")
def browser():
    path = chromium_path()
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=DESKTOP)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.set_default_timeout(30_000)
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(pg, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def sign_in(pg, base: str, key: str) -> None:
    """Sign in with the keyboard only: the key field has the focus, Enter submits."""
    pg.goto(base)
    pg.wait_for_selector("form.signin")
    assert pg.evaluate("document.activeElement.name") == "key"
    pg.keyboard.type(key)
    pg.keyboard.press("Enter")
    pg.wait_for_selector("h1:text-is('Scenarios')")


def test_a_wrong_key_shows_a_sign_in_error_and_keeps_the_page_on_sign_in(page, server):
    base, _ = server
    page.goto(base + "#/scenarios")
    page.wait_for_selector("form.signin")  # not signed in: the sign-in page, whatever the URL
    shot(page, "signin")
    page.get_by_label("API key").fill("sp_00000000_not-a-real-key")
    page.get_by_role("button", name="Sign in").click()
    error = page.locator(".field-error")
    error.wait_for()
    assert "This key was not accepted: invalid or revoked API key" in error.inner_text()
    assert page.get_by_label("API key").get_attribute("aria-invalid") is not None
    assert page.evaluate("sessionStorage.getItem('salesplan.apiKey')") is None
    assert page.locator("#nav").is_hidden()


def test_upload_build_run_and_the_headline_is_the_api_json(page, server):
    base, keys = server
    key = keys["planner"]
    sign_in(page, base, key)
    assert page.evaluate("sessionStorage.getItem('salesplan.apiKey')") == key

    # upload: the YAML and its CSV table through the file input of the drop zone
    page.set_input_files("#upload-files", [str(EXAMPLES / "small.yaml"),
                                           str(EXAMPLES / "small_accounts.csv")])
    assert page.locator("ul.files li").all_inner_texts() == [
        "Scenario: small.yaml", "Table: small_accounts.csv"]
    page.get_by_role("button", name="Upload").click()
    page.wait_for_selector("h1:text-is('small')")
    scenario_id = int(re.search(r"#/scenarios/(\d+)$", page.url).group(1))

    # the scenario page: target, regions and reps, funnel, the map with one dot per account
    assert page.locator("#t-target + p.big").inner_text() == "$1,620,000"
    regions = page.locator("section[aria-labelledby=t-teams] table").first
    assert regions.locator("tbody tr").all_inner_texts()[0].split("\t")[:3] == ["North", "3", "50"]
    assert page.locator("#accounts-map circle.pt").count() == 100
    assert page.locator("#accounts-map rect.rep-mark").count() == 6
    shot(page, "scenario")

    # the what-if builder: hire 2 in North from month 3
    page.get_by_role("link", name="Build a what-if").click()
    page.wait_for_selector("h1:text-is('What-if: small')")
    page.get_by_label("Name", exact=True).fill("hire-north")
    page.get_by_label("Lever to add").select_option("hire")
    page.get_by_role("button", name="Add lever").click()
    lever = page.locator("fieldset.lever[data-lever=hire]")
    lever.get_by_label("Region", exact=True).select_option("North")
    lever.get_by_label("How many").fill("2")
    lever.get_by_label("From", exact=True).select_option("3")
    assert page.get_by_label("In words").input_value() == "Hire 2 in North from March"
    page.get_by_label("Replications per variant").fill("40")
    page.get_by_label("Seed").fill("7")
    # only the new variant: untick the scenario's own
    for box in page.locator("input[name=run-variant]").all():
        box.uncheck()
    shot(page, "builder")
    page.get_by_role("button", name="Save and run").click()

    # run and watch, then the result
    page.wait_for_url(re.compile(r"#/runs/\d+$"))
    run_id = int(re.search(r"#/runs/(\d+)$", page.url).group(1))
    page.wait_for_selector("article.headline[data-variant=hire-north]", timeout=90_000)
    shot(page, "whatif-result")

    h = {"X-API-Key": key}
    run = httpx.get(f"{base}v1/runs/{run_id}", headers=h).json()
    assert run["scenario_id"] == scenario_id and run["version"] == 2
    assert run["options"]["variants"] == ["hire-north"]
    assert run["options"]["replications"] == 40 and run["options"]["seed"] == 7
    result = httpx.get(f"{base}v1/runs/{run_id}/result", headers=h).json()["result"]
    base_v, hire = result["variants"]["base"], result["variants"]["hire-north"]
    assert hire["description"] == "Hire 2 in North from March"

    card = page.locator("article.headline[data-variant=hire-north]")
    assert card.locator("h2").inner_text() == "Hire 2 in North from March"
    p_hit = card.locator(".p-hit")
    assert float(p_hit.get_attribute("data-value")) == hire["p_hit_target"]
    assert p_hit.inner_text() == (f"P(hit) {pct(base_v['p_hit_target'])} → "
                                  f"{pct(hire['p_hit_target'])}")
    change = card.locator(".p-hit-diff")
    assert float(change.get_attribute("data-value")) == hire["p_hit_diff"]
    lo, hi = hire["p_hit_diff_ci95"]
    assert change.inner_text() == f"{points(hire['p_hit_diff'])} [{points(lo)}, {points(hi)}]"
    diff = card.locator(".diff")
    assert float(diff.get_attribute("data-value")) == hire["diff_vs_base_mean"]
    lo, hi = hire["diff_vs_base_ci95"]
    assert diff.inner_text() == (f"{money_short(hire['diff_vs_base_mean'], sign=True)} "
                                 f"[{money_short(lo)}, {money_short(hi)}]")
    bookings = card.locator(".bookings")
    assert float(bookings.get_attribute("data-value")) == hire["bookings_mean"]
    assert bookings.inner_text() == money_short(hire["bookings_mean"])
    plan = page.locator("article.headline[data-variant=base]")
    assert plan.locator(".bookings").inner_text() == money_short(base_v["bookings_mean"])

    # the fan chart is SVG drawn from the run's fan table: a band per variant, the target
    fan = page.locator("figure.fan svg")
    fan.wait_for()
    assert fan.locator("path.band").count() == 2
    assert fan.locator("path.line.dashed").count() == 1
    fan_csv = httpx.get(f"{base}v1/runs/{run_id}/tables/fan", headers=h).text
    assert len(fan_csv.splitlines()) == 1 + 2 * 12
    shot(page, "whatif-result")

    # the territory map before and after: the hires' hand-over, the moved accounts outlined
    owners = httpx.get(f"{base}v1/runs/{run_id}/tables/owners", headers=h).text.splitlines()
    moved = sorted(line.split(",")[1] for line in owners[1:])
    assert moved and owners[0] == "variant,account,owner_before,owner_after,handover_date"
    terr = page.locator("#whatif-map")
    terr.wait_for()
    assert terr.locator("circle.pt").count() == 100
    assert sorted(terr.locator("circle.pt.hl").evaluate_all(
        "els => els.map(e => e.dataset.id)")) == moved
    after = terr.locator(f"circle[data-id={moved[0]}]").get_attribute("fill")
    page.screenshot(path=str(SCREENSHOTS / "whatif-result-full.png"), full_page=True)
    page.locator("#territories").get_by_label("before").check()
    assert page.locator(f"#whatif-map circle[data-id={moved[0]}]").get_attribute("fill") != after

    # statistical detail is one click away, not in the first view
    detail = page.locator("details.stats")
    assert not detail.evaluate("d => d.open")
    detail.locator("summary").click()
    assert detail.locator("tbody tr").count() == 2

    # the rep table sorts by a column
    reps = page.locator("#reps")
    reps.get_by_role("button", name="P(attain quota)").click()
    shown = [t.split("\t")[-1] for t in reps.locator("tbody tr").all_inner_texts()]
    values = [float(s.rstrip("%")) for s in shown]
    assert values == sorted(values, reverse=True)


def test_an_invalid_lever_value_shows_the_api_message_beside_its_field(page, server):
    base, keys = server
    key = keys["planner"]
    sc = upload_small(base, key)
    sign_in(page, base, key)
    page.goto(f"{base}#/scenarios/{sc['id']}/whatif")
    page.wait_for_selector("h1:text-is('What-if: small')")
    page.get_by_label("Name", exact=True).fill("bad-hire")
    page.get_by_role("button", name="Add lever").click()  # the first lever: hire
    lever = page.locator("fieldset.lever[data-lever=hire]")
    lever.get_by_label("How many").fill("-2")
    page.get_by_role("button", name="Save as a new version").click()
    error = lever.locator("#" + lever.get_by_label("How many").get_attribute("id") + "-error")
    error.wait_for()
    shot(page, "builder-invalid")

    # the same document sent to the API directly: the message on the page is its message
    h = {"X-API-Key": key}
    version = httpx.get(f"{base}v1/scenarios/{sc['id']}/versions/1", headers=h).json()
    doc = version["document"]
    doc["variants"].append({"name": "bad-hire", "description": "Hire -2 in North from January",
                            "levers": [{"lever": "hire", "region": "North", "count": -2,
                                        "start_month": 1}]})
    r = httpx.put(f"{base}v1/scenarios/{sc['id']}", headers=h,
                  json={"document": doc, "tables": version["tables"]})
    assert r.status_code == 422
    problem = next(p for p in r.json()["problems"]
                   if p["path"] == "variants[bad-hire].levers[0].count")
    assert error.inner_text() == problem["message"] == "must be >= 0, got -2"
    assert lever.get_by_label("How many").get_attribute("aria-invalid") is not None
    # nothing was stored
    assert httpx.get(f"{base}v1/scenarios/{sc['id']}", headers=h).json()["latest_version"] == 1


def test_an_align_result_shows_the_map_and_the_moves(page, server):
    base, keys = server
    key = keys["planner"]
    h = {"X-API-Key": key}
    sc = upload_small(base, key)
    run = httpx.post(f"{base}v1/runs", headers=h, json={"scenario_id": sc["id"],
                                                        "kind": "align", "options": {}}).json()
    assert wait_run(base, key, run["id"])["status"] == "succeeded"
    result = httpx.get(f"{base}v1/runs/{run['id']}/result", headers=h).json()["result"]
    assignment = httpx.get(f"{base}v1/runs/{run['id']}/tables/assignment", headers=h).text
    moved = sorted(line.split(",")[0] for line in assignment.splitlines()[1:]
                   if line.split(",")[3] == "True")
    assert result["moves"] == len(moved) > 0

    sign_in(page, base, key)
    page.goto(f"{base}#/runs/{run['id']}")
    page.wait_for_selector("#moves table")
    shot(page, "align-result")
    assert page.locator("article.headline .figure").inner_text() == f"{len(moved)} accounts move"
    rows = page.locator("#moves tbody tr").all_inner_texts()
    assert sorted(r.split("\t")[0] for r in rows) == moved
    # the map: every account, the moved ones outlined; after and before differ in colour
    mp = page.locator("#align-map")
    assert mp.locator("circle.pt").count() == 100
    assert sorted(mp.locator("circle.pt.hl").evaluate_all(
        "els => els.map(e => e.dataset.id)")) == moved
    first = moved[0]
    after = mp.locator(f"circle[data-id={first}]").get_attribute("fill")
    page.get_by_label("before").check()
    before = page.locator(f"#align-map circle[data-id={first}]").get_attribute("fill")
    assert before != after
    assert page.locator("#align-map-title").inner_text() == "Territories before"


def test_quota_and_headcount_pages_and_tablet_width(page, server):
    base, keys = server
    key = keys["planner"]
    h = {"X-API-Key": key}
    sc = upload_small(base, key)
    runs = {kind: httpx.post(f"{base}v1/runs", headers=h, json={
        "scenario_id": sc["id"], "kind": kind, "options": options}).json()["id"]
        for kind, options in (("quotas", {"replications": 20}),
                              ("plan-headcount", {"replications": 20, "max_hires": 2}))}
    for run_id in runs.values():
        assert wait_run(base, key, run_id)["status"] == "succeeded"
    sign_in(page, base, key)
    shot(page, "scenarios")

    page.goto(f"{base}#/runs/{runs['quotas']}")
    page.wait_for_selector("#quota-table tbody tr")
    quotas = httpx.get(f"{base}v1/runs/{runs['quotas']}/tables/reps", headers=h).text
    assert quotas.startswith("rep,region,")  # the rep ids (the plan's index) are a column
    assert page.locator("#quota-table tbody tr").count() == len(quotas.splitlines()) - 1 == 6
    assert sorted(t.split("\t")[0] for t in page.locator("#quota-table tbody tr")
                  .all_inner_texts()) == ["R1", "R2", "R3", "R4", "R5", "R6"]
    shot(page, "quotas-result")

    page.goto(f"{base}#/runs/{runs['plan-headcount']}")
    page.wait_for_selector("h2#h-frontier")
    frontier = httpx.get(f"{base}v1/runs/{runs['plan-headcount']}/result",
                         headers=h).json()["result"]["frontier"]
    assert page.locator("section[aria-labelledby=h-frontier] tbody tr").count() == len(frontier)
    shot(page, "headcount-result")

    # tablet width: nothing wider than the screen on the scenario page and the runs list
    page.set_viewport_size(TABLET)
    for where in (f"#/scenarios/{sc['id']}", "#/runs"):
        page.goto(base + where)
        page.wait_for_selector("main h1")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"], where


def test_the_yaml_download_reads_back_as_the_document(page, server):
    """The builder's YAML writer (app/yaml.js) on a real scenario document, read back with
    PyYAML: the same data (and so a file the CLI accepts with its CSV tables)."""
    import yaml

    base, keys = server
    sc = upload_small(base, keys["planner"])
    doc = httpx.get(f"{base}v1/scenarios/{sc['id']}/versions/1",
                    headers={"X-API-Key": keys["planner"]}).json()["document"]
    doc["variants"].append({"name": "odd", "description": "yes: no, 'quotes' \"and\" #hash",
                            "levers": [{"lever": "target", "amount": 1.5e6}]})
    page.goto(base)
    text = page.evaluate("async (doc) => (await import('./app/yaml.js')).toYaml(doc)", doc)
    assert yaml.safe_load(text) == doc


def test_the_pages_formats_are_the_ones_the_tests_compare_with(page, server):
    """format.js against this file's Python copies (pct, money_short) on ties and random values:
    the end-to-end comparison of page and JSON rests on them."""
    import numpy as np

    base, _ = server
    rng = np.random.default_rng(20)
    values = [0.125, 0.225, 0.005, 0.995, 0.5, 0.0, 1.0, 999.5, 1000.0, 99_950.0, 100_000.0,
              1_234_567.0, -15_640.5, -999_999.0, 2.5e9,
              *rng.uniform(0, 1, 100).round(3), *rng.lognormal(11, 2, 100) * rng.choice(
                  [-1, 1], 100)]
    values = [float(v) for v in values]
    page.goto(base)
    shown = page.evaluate("""async (vs) => {
        const f = await import('./app/format.js');
        return vs.map((v) => [f.pct(v), f.moneyShort(v, 'USD', { sign: true })]);
    }""", values)
    assert shown == [[pct(v), money_short(v, sign=True)] for v in values]


def test_the_app_works_under_a_path_prefix(browser, tmp_path):
    """Behind a reverse proxy that serves the service under /salesplan/ and strips the prefix
    (docs/webapp.md; here a Starlette mount does what the proxy does): the page, its modules
    and its API calls all resolve under the prefix."""
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from test_service_load import _serving
    from test_service_support import make_app, new_key

    app = make_app(tmp_path, run_pool=False)
    key = new_key(app, "prefixed")
    upload_small_local = {"file": ("small.yaml", (EXAMPLES / "small.yaml").read_bytes()),
                          "tables": ("small_accounts.csv",
                                     (EXAMPLES / "small_accounts.csv").read_bytes())}
    outer = Starlette(routes=[Mount("/salesplan", app=app)])
    with _serving(outer) as root:
        r = httpx.post(f"{root}/salesplan/v1/scenarios/upload", headers={"X-API-Key": key},
                       files=upload_small_local)
        assert r.status_code == 201, r.text
        context = browser.new_context(viewport=DESKTOP)
        pg = context.new_page()
        requested: list[str] = []
        pg.on("request", lambda req: requested.append(req.url))
        sign_in(pg, f"{root}/salesplan/", key)
        pg.get_by_role("link", name="small").click()
        pg.wait_for_selector("#accounts-map circle.pt")
        context.close()
    assert requested and all(u.startswith(f"{root}/salesplan/") for u in requested), requested


def test_a_viewer_sees_who_it_is_and_no_write_buttons_and_the_api_still_refuses(page, server):
    """The header names the key, its role and workspace (GET /v1/keys/me); a viewer is offered
    no upload, run, save or cancel; the API still refuses a write made anyway, with the 403
    message naming the role needed, and nothing is created."""
    base, keys = server
    h = {"X-API-Key": keys["viewer"]}
    sc = upload_small(base, keys["planner"])
    before = httpx.get(f"{base}v1/scenarios", headers=h).json()["count"]
    sign_in(page, base, keys["viewer"])
    assert page.locator("#who-text").inner_text() == "web-viewer · viewer · workspace default"
    assert page.locator("#upload-files").count() == 0
    assert "uploading a scenario needs the planner role" in page.locator(".role-note").inner_text()
    shot(page, "viewer-scenarios")
    page.goto(f"{base}#/scenarios/{sc['id']}")
    page.wait_for_selector("#accounts-map circle.pt")
    assert page.locator("form.run-form").count() == 0
    assert page.get_by_role("link", name="Track a CRM export").count() == 0
    page.goto(f"{base}#/scenarios/{sc['id']}/whatif")
    page.wait_for_selector("h1:text-is('What-if: small')")
    assert page.get_by_role("button", name="Save and run").count() == 0
    assert page.get_by_role("button", name="Download the YAML").count() == 1  # a read
    page.goto(f"{base}#/track")
    page.wait_for_selector(".role-note")
    assert page.locator("form.track-form").count() == 0
    # the page's own API client, asked to upload anyway: the API's 403
    detail = page.evaluate("""async () => {
        const { api } = await import('./app/api.js');
        const data = new FormData();
        data.append('file', new Blob(['name: x']), 'x.yaml');
        try { await api.upload('v1/scenarios/upload', data); return 'stored'; }
        catch (err) { return `${err.status} ${err.message}`; }
    }""")
    assert detail.startswith("403 ") and "this needs the planner role" in detail
    assert httpx.get(f"{base}v1/scenarios", headers=h).json()["count"] == before
    # a planner's header
    page.locator("#sign-out").click()
    sign_in(page, base, keys["planner"])
    assert page.locator("#who-text").inner_text() == "web-planner · planner · workspace default"
    assert page.locator("#upload-files").count() == 1
