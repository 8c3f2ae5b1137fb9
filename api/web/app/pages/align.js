// A territory alignment for planners: the map before and after, the balance of each rep's
// territory against its band, and the list of accounts that move.

import { api } from "../api.js";
import { bars, legend, lines } from "../charts.js";
import { h, mount, table } from "../dom.js";
import { int, moneyShort, num, pct } from "../format.js";
import { downloads } from "../downloads.js";
import { section } from "../scenario-data.js";
import { accountsMap } from "./scenario.js";

export async function renderAlign(el, run) {
  if (run.options.tradeoff) return renderTradeoff(el, run);
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

/** The trade-off curve: the alignment solved at several disruption weights (and move caps);
 *  each point's moves against the worst workload deviation, the Pareto-optimal ones joined. */
async function renderTradeoff(el, run) {
  const [res, version] = await Promise.all([api.get(`v1/runs/${run.id}/result`),
    api.get(`v1/scenarios/${run.scenario_id}/versions/${run.version}`)]);
  const points = res.result.tradeoff;
  const cur = version.document.horizon.currency;
  const pareto = points.filter((p) => p.pareto);
  const fewest = [...pareto].sort((a, b) => a.moves - b.moves)[0];
  const best = [...pareto].sort((a, b) => a.worst_deviation - b.worst_deviation)[0];
  const devs = points.map((p) => p.worst_deviation);
  const span = Math.max(...devs) - Math.min(...devs) || 0.01;
  const curve = pareto.length ? lines([
    { name: "Pareto-optimal", colour: "#2f6fb0",
      points: pareto.map((p) => ({ x: p.moves, y: p.worst_deviation })) },
    { name: "dominated", colour: "#9aa6b2", line: false,
      points: points.filter((p) => !p.pareto).map((p) => ({ x: p.moves, y: p.worst_deviation })) },
  ].filter((se) => se.points.length),
  { title: "Worst workload deviation against the number of moves", xFmt: (v) => int(v),
    yFmt: (v) => pct(v, 1), yMin: Math.max(0, Math.min(...devs) - span * 0.3),
    yMax: Math.max(...devs) + span * 0.3 }) : h("p.empty", {}, "No feasible point.");
  mount(el,
    h("section.headlines", {}, h("article.headline", {},
      h("h2", {}, "Balance against disruption"),
      h("p.figure", {}, `${int(pareto.length)} of ${int(points.length)} points are Pareto-optimal`),
      fewest && best ? h("p", {}, `From ${int(fewest.moves)} move${fewest.moves === 1 ? "" : "s"} `
        + `(worst rep ${pct(fewest.worst_deviation)} off its pool's mean workload) to `
        + `${int(best.moves)} moves (${pct(best.worst_deviation)} off).`) : null)),
    h("section.card#tradeoff", { "aria-labelledby": "a-tradeoff" },
      h("h2#a-tradeoff", {}, "Trade-off curve"),
      h("p.sub", {}, "Each point is the alignment solved with a disruption weight (and move cap). "
        + "A point is Pareto-optimal (blue, joined) when no other point is as good on moves, "
        + "weighted distance and worst deviation and better on one; grey points are dominated. "
        + "Run the alignment with a point's settings to get its map."),
      curve, legend([{ name: "Pareto-optimal", colour: "#2f6fb0" },
        { name: "dominated", colour: "#9aa6b2" }]),
      table([
        { key: "disruption", label: "Disruption weight", num: true, fmt: (v) => num(v, 1) },
        { key: "max_moves", label: "Move cap", num: true, fmt: (v) => (v === null ? "none" : int(v)) },
        { key: "moves", label: "Moves", num: true, fmt: int },
        { key: "moved_potential", label: "Potential moved", num: true, fmt: (v) => moneyShort(v, cur) },
        { key: "worst_deviation", label: "Worst deviation", num: true, fmt: (v) => pct(v, 1) },
        { key: "weighted_distance", label: "Weighted distance", num: true, fmt: int },
        { key: "pareto", label: "Pareto-optimal", fmt: (v) => (v ? "yes" : "no") },
        { key: "status", label: "Solver status" },
      ], points, { sortable: true, rowClass: (p) => (p.pareto ? "pareto" : "dominated") })),
    downloads(run.id, res));
}
