// Runs: the list, and one run watched until it ends (progress bar, cancel), then its result
// drawn by the page of its kind.

import { api, can } from "../api.js";
import { h, mount, table } from "../dom.js";
import { pct, seconds, when } from "../format.js";
import { renderAlign } from "./align.js";
import { renderHeadcount } from "./headcount.js";
import { renderQuotas } from "./quotas.js";
import { renderSimulate } from "./simulate.js";
import { renderComp } from "./comp.js";
import { renderTrack } from "./track.js";
import { renderWhatif } from "./whatif.js";

const RESULT_PAGES = {
  whatif: renderWhatif, align: renderAlign, quotas: renderQuotas,
  "plan-headcount": renderHeadcount, track: renderTrack, simulate: renderSimulate,
  comp: renderComp,
};

const KIND_NAMES = {
  whatif: "What-if", align: "Territory alignment", quotas: "Quotas",
  "plan-headcount": "Headcount plan", simulate: "Simulation", comp: "Pay plan",
  track: "Tracking against targets",
};

export const kindName = (k) => KIND_NAMES[k] || k;
const FINAL = new Set(["succeeded", "failed", "cancelled"]);

export function runsTable(runs) {
  return table([
    { key: "id", label: "Run", num: true, render: (r) => h("a", { href: `#/runs/${r.id}` }, `#${r.id}`) },
    { key: "kind", label: "Kind", fmt: kindName },
    { key: "scenario_id", label: "Scenario", render: (r) => h("a", {
      href: `#/scenarios/${r.scenario_id}` }, `#${r.scenario_id} v${r.version}`) },
    { key: "status", label: "Status", render: (r) => h(`span.badge.${r.status}`, {}, r.status) },
    { key: "created", label: "Submitted", fmt: when },
    { key: "seconds", label: "Time", num: true, fmt: seconds },
  ], runs, { sortable: true });
}

export async function renderRuns(view) {
  const runs = await api.get("v1/runs?limit=200");
  mount(view, h("h1", {}, "Runs"), runs.count ? runsTable(runs.data)
    : h("p.empty", {}, "No runs yet: open a scenario and build a what-if."));
}

export async function renderRun(view, [id], page) {
  let run = await api.get(`v1/runs/${id}`);
  const title = h("h1", {}, `${kindName(run.kind)} · run #${run.id}`);
  const bar = h("progress", { max: 1, value: run.progress, "aria-label": "Progress" });
  const label = h("span.progress-label");
  const cancel = h("button.danger", { type: "button" }, "Cancel");
  const watch = h("section.watch", { "aria-label": "Run progress" }, h("div.progress-row", {}, bar,
    label, cancel));
  const early = h("div.early");
  const body = h("div.result");
  const meta = h("p.sub");
  mount(view, title, meta, watch, early, body);

  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    try { run = await api.del(`v1/runs/${id}`); show(); } catch (err) {
      mount(body, h("p.error", { role: "alert" }, err.message));
    }
  });

  const show = () => {
    meta.textContent = `Scenario #${run.scenario_id} version ${run.version} · submitted ${
      when(run.created)} · ${run.status}${run.seconds !== null ? ` after ${seconds(run.seconds)}` : ""}`;
    const known = run.progress >= 0 && run.status !== "queued";
    if (known) bar.value = run.progress; else bar.removeAttribute("value");
    label.textContent = run.status === "queued" ? "Waiting for a free worker…"
      : `${known ? pct(run.progress) : ""} ${run.message || ""}`.trim();
    cancel.hidden = FINAL.has(run.status) || !can("planner");
    watch.classList.toggle("done", FINAL.has(run.status));
  };
  show();

  let timer = null;
  let stopped = false;
  page.cleanup = () => { stopped = true; clearTimeout(timer); };
  let partial = null;
  const poll = async () => {
    if (stopped) return;
    try {
      run = await api.get(`v1/runs/${id}`);
    } catch (err) {
      mount(body, h("p.error", { role: "alert" }, err.message));
      return;
    }
    if (stopped) return;
    show();
    if (!FINAL.has(run.status)) {
      if (run.partial && RESULT_PAGES[run.kind] && RESULT_PAGES[run.kind].early) {
        partial = RESULT_PAGES[run.kind].early(early, run, partial);
      }
      timer = setTimeout(poll, 400);
      return;
    }
    mount(early);
    if (run.status === "succeeded") {
      watch.hidden = true;
      const render = RESULT_PAGES[run.kind];
      if (render) await render(body, run);
      else mount(body, h("p", {}, "This kind's result has no page yet; download it below."),
        h("pre", {}, JSON.stringify((await api.get(`v1/runs/${id}/result`)).result, null, 2)));
    } else {
      mount(body, h("div.error", { role: "alert" }, h("p", {}, run.status === "cancelled"
        ? "This run was cancelled." : "This run failed."),
        run.error ? h("pre", {}, run.error) : null));
    }
  };
  await poll();
}
