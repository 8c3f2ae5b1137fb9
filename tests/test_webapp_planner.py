"""The planner views added for issue #20's remaining items, in a real headless Chromium: the
align trade-off curve (submitted from the scenario page's form), the quotas method comparison,
and the simulate and comp result pages; each page's figures are the API's JSON for its run."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict

import httpx
from _webapp import SCREENSHOTS, pct, upload_small, wait_run
from test_webapp import TABLET, browser, page, server, shot, sign_in  # noqa: F401


def _run(base: str, key: str, scenario_id: int, kind: str, options: dict) -> int:
    r = httpx.post(f"{base}v1/runs", headers={"X-API-Key": key},
                   json={"scenario_id": scenario_id, "kind": kind, "options": options})
    assert r.status_code == 202, r.text
    assert wait_run(base, key, r.json()["id"])["status"] == "succeeded"
    return r.json()["id"]


def _csv(base: str, key: str, run_id: int, name: str) -> list[dict]:
    text = httpx.get(f"{base}v1/runs/{run_id}/tables/{name}", headers={"X-API-Key": key}).text
    return list(csv.DictReader(io.StringIO(text)))


def test_align_tradeoff_from_the_form_and_the_quota_method_comparison(page, server):  # noqa: F811
    base, keys = server
    key = keys["planner"]
    h = {"X-API-Key": key}
    sc = upload_small(base, key)
    methods_run = _run(base, key, sc["id"], "quotas", {"replications": 20,
                                                       "compare_methods": True})
    sign_in(page, base, key)
    page.goto(f"{base}#/scenarios/{sc['id']}")
    form = page.locator("form.run-form[data-kind=align]")
    form.get_by_label("Trade-off curve instead").check()
    form.get_by_role("button", name="Run align territories").click()
    page.wait_for_url(re.compile(r"#/runs/\d+$"))
    run_id = int(re.search(r"#/runs/(\d+)$", page.url).group(1))
    page.wait_for_selector("#tradeoff tbody tr", timeout=90_000)
    shot(page, "align-tradeoff")
    run = httpx.get(f"{base}v1/runs/{run_id}", headers=h).json()
    assert run["options"]["tradeoff"] is True
    points = httpx.get(f"{base}v1/runs/{run_id}/result", headers=h).json()["result"]["tradeoff"]
    pareto = [p for p in points if p["pareto"]]
    assert page.locator("#tradeoff tbody tr").count() == len(points)
    assert page.locator("#tradeoff tbody tr.pareto").count() == len(pareto) > 1
    assert page.locator("article.headline .figure").inner_text() == (
        f"{len(pareto)} of {len(points)} points are Pareto-optimal")
    assert page.locator("#tradeoff svg circle[data-series=Pareto-optimal]").count() == len(pareto)
    assert page.locator("#tradeoff svg circle").count() == len(points)

    page.goto(f"{base}#/runs/{methods_run}")
    page.wait_for_selector("#quota-table tbody tr")
    shot(page, "quotas-methods")
    methods = httpx.get(f"{base}v1/runs/{methods_run}/result",
                        headers=h).json()["result"]["methods"]
    rows = page.locator("#methods tbody tr").all_inner_texts()
    assert [r.split("\t")[0] for r in rows] == [m["method"] for m in methods]
    assert [r.split("\t")[1] for r in rows] == [pct(m["expected_share_attaining"])
                                               for m in methods]
    # each method's quotas are its reps_<method> table
    for method in ("even", "potential"):
        page.get_by_label("Method", exact=True).select_option(method)
        page.wait_for_selector(f"#quota-table [data-method={method}] tbody tr")
        expected = {r["rep"]: f"${float(r['quota']):,.0f}"
                    for r in _csv(base, key, methods_run, f"reps_{method}")}
        shown = {t.split("\t")[0]: t.split("\t")[2]
                 for t in page.locator("#quota-table tbody tr").all_inner_texts()}
        assert shown == expected, method


def test_simulate_and_comp_pages_are_the_api_json(page, server):  # noqa: F811
    base, keys = server
    key = keys["planner"]
    h = {"X-API-Key": key}
    sc = upload_small(base, key)
    sim = _run(base, key, sc["id"], "simulate", {"replications": 40, "seed": 3})
    comp = _run(base, key, sc["id"], "comp", {"replications": 20, "seed": 3})
    sign_in(page, base, key)

    page.goto(f"{base}#/runs/{sim}")
    page.wait_for_selector("#distribution svg rect.bin")
    shot(page, "simulate-result")
    r = httpx.get(f"{base}v1/runs/{sim}/result", headers=h).json()["result"]
    p_hit = page.locator("article.simulate .p-hit")
    assert float(p_hit.get_attribute("data-value")) == r["p_hit_target"]
    assert p_hit.inner_text() == f"P(hit) {pct(r['p_hit_target'])}"
    assert float(page.locator("article.simulate .bookings").get_attribute("data-value")) \
        == r["bookings"]["mean"]
    # the histogram: one count per replication, from totals that are the summary's
    counts = page.locator("#distribution rect.bin").evaluate_all(
        "els => els.map(e => Number(e.dataset.count))")
    assert sum(counts) == r["replications"] == 40
    totals: dict[str, float] = defaultdict(float)
    for row in _csv(base, key, sim, "bookings"):
        totals[row["replication"]] += float(row["bookings"])
    assert abs(sum(totals.values()) / len(totals) - r["bookings"]["mean"]) \
        <= 1e-9 * r["bookings"]["mean"]
    page_totals = page.evaluate("""async (rows) => (await import('./app/pages/simulate.js'))
        .bookingsPerReplication(rows)""", [{"replication": int(k), "bookings": v}
                                          for k, v in totals.items()])
    assert sorted(page_totals) == sorted(totals.values())
    assert page.locator("#funnel tbody tr").count() == len(_csv(base, key, sim, "funnel"))
    assert page.locator("#sim-reps tbody tr").count() == 6

    page.goto(f"{base}#/runs/{comp}")
    page.wait_for_selector("#payouts tbody tr")
    shot(page, "comp-result")
    c = httpx.get(f"{base}v1/runs/{comp}/result", headers=h).json()["result"]
    assert float(page.locator(".total-pay").get_attribute("data-value")) == c["total_pay"]["mean"]
    over = page.locator(".p-over")
    assert float(over.get_attribute("data-value")) == c["p_over_budget"]["p"]
    assert over.inner_text() == f"P(over budget) {pct(c['p_over_budget']['p'])}"
    assert float(page.locator(".share-otp").get_attribute("data-value")) \
        == c["share_at_on_target_pay"]["mean"]
    payouts = _csv(base, key, comp, "payouts")
    shown = {t.split("\t")[0]: t.split("\t")[5]
             for t in page.locator("#payouts tbody tr").all_inner_texts()}
    assert shown == {p["rep"]: f"${float(p['pay_mean']):,.0f}" for p in payouts}
    assert page.get_by_role("button", name="The report (report.html)").count() == 1

    page.set_viewport_size(TABLET)
    for run_id in (sim, comp):
        page.goto(f"{base}#/runs/{run_id}")
        page.wait_for_selector("section.downloads")
        assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    page.screenshot(path=str(SCREENSHOTS / "comp-result-tablet.png"))
