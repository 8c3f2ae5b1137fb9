// A territory alignment for planners: the map before and after, the balance of each rep's
// territory against its band, and the list of accounts that move.

import { api } from "../api.js";
import { bars } from "../charts.js";
import { h, mount, table } from "../dom.js";
import { int, moneyShort, num, pct } from "../format.js";
import { downloads } from "../downloads.js";
import { section } from "../scenario-data.js";
import { accountsMap } from "./scenario.js";

export async function renderAlign(el, run) {
  const [res, assignment, territories, version] = await Promise.all([
    api.get(`v1/runs/${run.id}/result`), api.table(run.id, "assignment"),
    api.table(run.id, "territories"),
    api.get(`v1/scenarios/${run.scenario_id}/versions/${run.version}`)]);
  const r = res.result;
  const cur = version.document.horizon.currency;
  const reps = section(version, "reps");
  const accounts = section(version, "accounts");
  const after = Object.fromEntries(assignment.map((a) => [a.account, a.rep]));
  const before = Object.fromEntries(assignment.map((a) => [a.account, a.previous_owner]));
  const moved = assignment.filter((a) => a.moved);
  const band = (run.options.balance || {}).workload;

  const mapHolder = h("div");
  const choice = (value, label, checked) => h("label.radio", {}, h("input", { type: "radio",
    name: "map-when", value, checked }), ` ${label}`);
  const picker = h("fieldset.map-when", {}, h("legend", {}, "Show owners"),
    choice("after", "after the alignment", true), choice("before", "before"));
  const movedIds = new Set(moved.map((a) => a.account));
  const draw = () => {
    const when = picker.querySelector("input:checked").value;
    const owners = when === "after" ? after : before;
    mount(mapHolder, accountsMap(reps, accounts, cur, { id: "align-map",
      owner: (a) => owners[a.id] ?? a.owner,
      title: when === "after" ? "Territories after the alignment" : "Territories before",
      highlight: (p) => movedIds.has(p.id), bare: true }));
  };
  picker.addEventListener("change", draw);
  draw();

  // each rep's workload as a share of its pool's mean (pools: a region, or all reps)
  const balance = bars(territories.map((t) => ({ label: `${t.rep} (${t.region})`,
    value: 1 + t.workload_dev, colour: Math.abs(t.workload_dev) > (band ?? Infinity) + 1e-9
      ? "#c23b3b" : "#2f6fb0",
    note: `${int(t.workload_hours)} h (${t.workload_dev >= 0 ? "+" : ""}${pct(t.workload_dev)})` })),
  { title: "Workload per rep as a share of its pool's mean", fmt: (v) => pct(v), valueW: 130,
    min: Math.max(0, Math.floor(Math.min(...territories.map((t) => 1 + t.workload_dev)) * 10) / 10 - 0.1),
    reference: { value: 1, label: "pool mean" } });

  mount(el,
    h("section.headlines", {}, h("article.headline", {}, h("h2", {}, `Territories ${
      run.options.mode === "carve" ? "carved" : "re-aligned"}: ${r.status}`),
      h("p.figure", {}, `${int(r.moves)} account${r.moves === 1 ? "" : "s"} move`),
      h("p", {}, `${moneyShort(r.moved_potential, cur)} of potential changes hands; workload `
        + `spread ${pct(r.balance.workload.min_over_mean)}–${pct(r.balance.workload.max_over_mean)} `
        + `of the mean${band ? ` (band ±${pct(band)})` : ""}.`),
      r.notes && r.notes.length ? h("ul.notes", {}, r.notes.map((n) => h("li", {}, n))) : null)),
    h("div.grid2", {},
      h("section.card", { "aria-labelledby": "a-map" }, h("h2#a-map", {}, "Map"), picker, mapHolder),
      h("section.card", { "aria-labelledby": "a-balance" }, h("h2#a-balance", {}, "Balance"),
        h("p.sub", {}, `Workload hours against the mean of the rep's pool${band ? `; red: outside the ±${pct(band)} band` : ""}.`), balance)),
    h("section.card#moves", { "aria-labelledby": "a-moves" },
      h("h2#a-moves", {}, `Moves (${int(moved.length)})`),
      moved.length ? table([
        { key: "account", label: "Account" },
        { key: "previous_owner", label: "From" },
        { key: "rep", label: "To" },
        { key: "region", label: "Region" },
        { key: "potential", label: "Potential", num: true, fmt: (v) => moneyShort(v, cur) },
        { key: "workload_hours", label: "Workload (h)", num: true, fmt: (v) => num(v, 1) },
        { key: "distance", label: `Distance (${r.distance_unit})`, num: true, fmt: (v) => int(v) },
      ], moved, { sortable: true }) : h("p.empty", {}, "No account moves.")),
    h("details.card.stats", {}, h("summary", {}, h("h2", {}, "Solver detail")),
      table([{ key: "k", label: "" }, { key: "v", label: "" }], [
        ["objective", num(r.objective, 1)], ["bound", num(r.bound, 1)], ["gap", pct(r.gap, 2)],
        ["strategy", r.strategy], ["solver", r.solver], ["solve time", `${num(r.solve_seconds, 2)} s`],
        ["total distance", `${int(r.total_distance)} ${r.distance_unit}`],
      ].map(([k, v]) => ({ k, v })))),
    downloads(run.id, res));
}
