"""The track page in a real headless Chromium (issue #21 item 7): upload a CRM export, its team
table and targets with the mapping and the as-of date, run ``track``, and read the sales
director's answer; the company's P(hit) and P50 on the page are the API's JSON for the run."""

from __future__ import annotations

import io
import re
import zipfile

import httpx
import pytest
from _track_history import closed_deals, write_history
from _webapp import SCREENSHOTS, pct, upload_small
from test_webapp import DESKTOP, TABLET, browser, page, server, shot, sign_in  # noqa: F401

TARGETS = ("period,level,id,target\n2021Q2,company,,12500\n2021Q2,region,North,6000\n"
           "2021Q2,region,South,6500\n2021Q2,rep,Ann,3000\n2021Q2,rep,Bob,3000\n"
           "2021Q2,rep,Cid,3200\n2021Q2,rep,Dee,3300\n")


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """A small Maven export (80 deals in 2021, 17 open on 10 June), its teams and targets."""
    d = tmp_path_factory.mktemp("export")
    write_history(d, closed_deals(40, "2021-01-05") + closed_deals(40, "2021-05-01", seed=2))
    (d / "targets.csv").write_text(TARGETS)
    return d


def money_short(v: float) -> str:
    """format.js moneyShort for the amounts of this export (under $100k, positive)."""
    return f"${v / 1e3:.1f}k" if v >= 1e3 else f"${v:.0f}"


def test_track_upload_run_and_the_answer_is_the_api_json(page, server, export):  # noqa: F811
    base, keys = server
    key = keys["planner"]
    sc = upload_small(base, key)  # the carrier scenario
    sign_in(page, base, key)
    page.goto(f"{base}#/scenarios/{sc['id']}")
    page.get_by_role("link", name="Track a CRM export").click()
    page.wait_for_selector("form.track-form")
    page.get_by_label("CRM history export (CSV)").set_input_files(
        str(export / "sales_pipeline.csv"))
    page.get_by_label("Targets (CSV: period, level, id, target)").set_input_files(
        str(export / "targets.csv"))
    page.get_by_label("Teams (optional CSV)").set_input_files(str(export / "sales_teams.csv"))
    page.get_by_label("Mapping of the export's columns").select_option("maven")
    page.get_by_label("As of").fill("2021-06-10")
    page.get_by_label("Replications").fill("300")
    shot(page, "track-form")
    page.get_by_role("button", name="Upload and track").click()
    page.wait_for_url(re.compile(r"#/runs/\d+$"))
    run_id = int(re.search(r"#/runs/(\d+)$", page.url).group(1))
    page.wait_for_selector("article.headline.track", timeout=90_000)
    page.wait_for_selector("img[data-chart=fans]")
    shot(page, "track-result")
    page.screenshot(path=str(SCREENSHOTS / "track-result-full.png"), full_page=True)

    h = {"X-API-Key": key}
    run = httpx.get(f"{base}v1/runs/{run_id}", headers=h).json()
    assert run["kind"] == "track" and run["version"] == 2
    assert run["options"]["history"] == "sales_pipeline.csv"
    assert run["options"]["teams"] == "sales_teams.csv" and run["options"]["asof"] == "2021-06-10"
    res = httpx.get(f"{base}v1/runs/{run_id}/result", headers=h).json()
    result = res["result"]
    company = next(r for r in result["forecast"] if r["level"] == "company")
    assert 0 < company["p_hit"] < 1  # the case is not trivial

    card = page.locator("article.headline.track")
    p_hit = card.locator(".p-hit")
    assert float(p_hit.get_attribute("data-value")) == company["p_hit"]
    assert p_hit.inner_text() == f"P(hit) {pct(company['p_hit'])}"
    p50 = card.locator(".p50")
    assert float(p50.get_attribute("data-value")) == company["p50"]
    assert p50.inner_text() == money_short(company["p50"])
    assert f"P10 {money_short(company['p10'])} – P90 {money_short(company['p90'])}" in \
        card.inner_text()
    assert page.locator(".track-headline").inner_text() == result["headline"]

    # the traffic lights: one row per target, every level; sortable; filter by level
    lights = page.locator("#lights")
    assert lights.locator("tbody tr").count() == len(result["forecast"]) == 7
    statuses = lights.locator("tbody tr .light").evaluate_all(
        "els => els.map(e => e.dataset.status)")
    order = {"company": 0, "region": 1, "rep": 2}
    assert statuses == [r["status"] for r in sorted(
        result["forecast"], key=lambda r: (order[r["level"]], r["id"]))]
    lights.get_by_role("button", name="P(hit)").click()
    shown = [float(t.split("\t")[7].rstrip("%"))
             for t in lights.locator("tbody tr").all_inner_texts()]
    assert shown == sorted(shown, reverse=True)
    page.get_by_label("Level").select_option("rep")
    assert sorted(t.split("\t")[1] for t in lights.locator("tbody tr").all_inner_texts()) == [
        "Rep Ann", "Rep Bob", "Rep Cid", "Rep Dee"]

    # the risk list in the API's order, the actions with their lift and interval
    assert page.locator("ol.risks > li").evaluate_all("els => els.map(e => e.dataset.id)") == [
        r["id"] for r in result["risks"]]
    actions = page.locator("#actions tbody tr")
    assert actions.count() == len(result["actions"])
    first = result["actions"][0]
    lift = f"+{first['lift'] * 100:.1f} pts [+{first['lift_lo'] * 100:.1f} pts, "
    # each reason of a risk is one item, its bracket (with "; not sure; n=...") kept whole
    bob = next(r for r in result["risks"] if r["id"] == "Bob")
    items = page.locator("ol.risks > li[data-id=Bob] ul.why li").all_inner_texts()
    assert "; ".join(items) == bob["why"] and all(i.count("(") == i.count(")") for i in items)
    assert actions.first.inner_text().split("\t")[3].startswith(lift)

    # the downloads: the zip holds the CLI's files; the report is served
    with page.expect_download() as dl:
        page.get_by_role("button", name="Everything (zip)").click()
    names = zipfile.ZipFile(io.BytesIO(dl.value.path().read_bytes())).namelist()
    assert {"summary.json", "forecast.csv", "report.html", "result.json"} <= set(names)
    with page.expect_download() as dl:
        page.get_by_role("button", name="The report (report.html)").click()
    assert b"<html" in dl.value.path().read_bytes()[:500].lower()

    # tablet width: nothing wider than the screen
    page.set_viewport_size(TABLET)
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "track-result-tablet")
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]


def test_a_track_option_the_api_refuses_shows_beside_its_field(page, server, export):  # noqa: F811
    base, keys = server
    key = keys["planner"]
    upload_small(base, key)
    sign_in(page, base, key)
    page.goto(f"{base}#/track")
    page.wait_for_selector("form.track-form")
    page.get_by_role("button", name="Upload and track").click()  # nothing chosen: said here
    assert page.locator(".field-error:visible").all_inner_texts() == [
        "Choose the CRM export.", "Choose the targets file.", "Pick the as-of date."]
    page.get_by_label("CRM history export (CSV)").set_input_files(
        str(export / "sales_pipeline.csv"))
    page.get_by_label("Targets (CSV: period, level, id, target)").set_input_files(
        str(export / "targets.csv"))
    page.get_by_label("As of").fill("2021-06-10")
    # a YAML mapping among the other files becomes a choice of the mapping
    (export / "my-crm.yaml").write_text("columns: {}\n")
    page.get_by_label("Other files of the export (optional)").set_input_files(
        str(export / "my-crm.yaml"))
    assert page.get_by_label("Mapping of the export's columns").locator("option") \
        .all_inner_texts() == ["maven", "salesforce", "my-crm.yaml"]
    page.get_by_label("Other files of the export (optional)").set_input_files([])
    page.get_by_label("Replications").fill("0")
    page.get_by_role("button", name="Upload and track").click()
    error = page.locator("#" + page.get_by_label("Replications").get_attribute("id") + "-error")
    error.wait_for()
    assert "1" in error.inner_text()  # the API's bound, beside the field
    assert page.url.endswith("#/track")
