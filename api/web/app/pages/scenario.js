// A scenario as a leader recognises it: regions and reps, the target and its split, the funnel,
// lead volume by month and the accounts map; and the runs that can start from it.

import { api, can } from "../api.js";
import { viewerNote } from "../role.js";
import { bars, colour, legend, lines, scatterMap } from "../charts.js";
import { field, h, mount, setFieldError, table } from "../dom.js";
import { horizonMonth, int, money, moneyShort, num, pct, when } from "../format.js";
import { funnel, leadVolume, regionIds, section, targetSplit, winRate } from "../scenario-data.js";
import { runsTable } from "./runs.js";

export async function loadScenario(id) {
  const sc = await api.get(`v1/scenarios/${id}`);
  const version = await api.get(`v1/scenarios/${id}/versions/${sc.latest_version}`);
  return { sc, version };
}

export async function renderScenario(view, [id]) {
  const [{ sc, version }, runs] = await Promise.all([loadScenario(id),
    api.get(`v1/runs?scenario_id=${id}&limit=20`)]);
  const doc = version.document;
  const cur = doc.horizon.currency;
  const reps = section(version, "reps");
  const accounts = section(version, "accounts");
  const split = targetSplit(doc, accounts);

  const head = h("div.page-head", {},
    h("div", {}, h("h1", {}, doc.name),
      h("p.sub", {}, doc.description || "",
        ` ${doc.horizon.months} months from ${horizonMonth(doc.horizon.start, 1)}, in ${cur}.`,
        ` Version ${version.version} of ${sc.latest_version}, saved ${when(version.created)}.`)),
    h("div.actions", {},
      h("a.button.primary", { href: `#/scenarios/${id}/whatif` },
        can("planner") ? "Build a what-if" : "Draft a what-if (YAML)"),
      can("planner") ? h("a.button", { href: "#plan" }, "Plan territories, quotas, headcount") : null,
      can("planner") ? h("a.button", { href: `#/track/${id}` }, "Track a CRM export") : null));

  const target = doc.targets ? h("section.card", { "aria-labelledby": "t-target" },
    h("h2#t-target", {}, "Target"),
    h("p.big", {}, money(doc.targets.company, cur)),
    h("p.sub", {}, doc.targets.by_region && Object.keys(doc.targets.by_region).length
      ? "split by region as the scenario sets it" : "split by region in proportion to account potential"),
    bars(regionIds(doc).map((r, i) => ({ label: r, value: doc.targets.company * split[r],
      colour: colour(i), note: `${moneyShort(doc.targets.company * split[r], cur)} (${pct(split[r])})` })),
    { title: "Target by region", fmt: (v) => moneyShort(v, cur) }))
    : h("section.card", {}, h("h2", {}, "Target"), h("p", {}, "This scenario sets no target."));

  const byRegion = regionIds(doc).map((r, i) => ({
    region: r, colour: colour(i), reps: reps.filter((p) => p.region === r),
    accounts: accounts.filter((a) => a.region === r) }));
  const teams = h("section.card", { "aria-labelledby": "t-teams" },
    h("h2#t-teams", {}, "Regions and reps"),
    table([
      { key: "region", label: "Region" },
      { key: "reps", label: "Reps", num: true, render: (r) => int(r.reps.length) },
      { key: "accounts", label: "Accounts", num: true, render: (r) => int(r.accounts.length) },
      { key: "potential", label: "Account potential", num: true,
        render: (r) => moneyShort(r.accounts.reduce((s, a) => s + (a.potential || 0), 0), cur) },
      { key: "names", label: "Reps", render: (r) => r.reps.map((p) => p.id).join(", ") },
    ], byRegion),
    h("details", {}, h("summary", {}, `All ${reps.length} reps`), table([
      { key: "id", label: "Rep" }, { key: "region", label: "Region" },
      { key: "role", label: "Role" },
      { key: "capacity", label: "Capacity (open deals)", num: true, fmt: int },
      { key: "productivity", label: "Productivity", num: true, fmt: (v) => num(v, 2) },
      { key: "start_date", label: "Starts", fmt: (v) => v || "on the books" },
      { key: "ramp_months", label: "Ramp (months)", num: true, fmt: (v) => num(v, 1) },
      { key: "last_bookings", label: "Last year's bookings", num: true,
        fmt: (v) => money(v, cur) },
    ], reps, { sortable: true })));

  const stages = funnel(doc);
  const funnelCard = h("section.card", { "aria-labelledby": "t-funnel" },
    h("h2#t-funnel", {}, "Funnel"),
    h("p.sub", {}, `${pct(winRate(doc), 1)} of leads are won, on the stages' base conversion.`),
    bars(stages.map((st) => ({ label: st.name, value: st.reach, colour: "#2f6fb0",
      note: `${pct(st.reach)} reach · ${pct(st.conversion)} convert · ${num(st.days, 0)} days` })),
    { title: "Share of leads reaching each stage", fmt: (v) => pct(v), max: 1, width: 720,
      valueW: 230 }),
    table([
      { key: "name", label: "Stage" },
      { key: "conversion", label: "Conversion", num: true, fmt: (v) => pct(v) },
      { key: "days", label: "Mean days in stage", num: true, fmt: (v) => num(v, 0) },
      { key: "overrides", label: "Overrides", num: true, fmt: int },
    ], stages));

  const volume = leadVolume(doc);
  const leadsCard = h("section.card", { "aria-labelledby": "t-leads" },
    h("h2#t-leads", {}, "Lead volume by month"),
    lines(Object.entries(volume).map(([r, v], i) => ({ name: r, colour: colour(i),
      points: v.map((y, k) => ({ x: k + 1, y })) })),
    { title: "Expected leads per month by region", xFmt: (k) => horizonMonth(doc.horizon.start, k).slice(0, 3),
      yFmt: (v) => int(v) }),
    legend(Object.keys(volume).map((r, i) => ({ name: r, colour: colour(i) }))));

  mount(view, head, h("div.grid2", {}, target, teams), h("div.grid2", {}, funnelCard, leadsCard),
    accountsMap(reps, accounts, cur),
    can("planner") ? planPanel(id, doc) : viewerNote("running an alignment, quotas or a headcount plan"),
    h("section.card", { "aria-labelledby": "t-runs" }, h("h2#t-runs", {}, "Runs of this scenario"),
      runs.count ? runsTable(runs.data) : h("p.empty", {}, "No runs yet.")));
}

/** Accounts coloured by owner, reps as squares. `owner` picks the owning rep of an account. */
export function accountsMap(reps, accounts, cur, { owner = (a) => a.owner, title = "Accounts by owner",
  highlight, id = "accounts-map", bare = false } = {}) {
  const repIds = reps.map((r) => r.id);
  const colours = Object.fromEntries(repIds.map((r, i) => [r, colour(i)]));
  const points = [
    ...accounts.map((a) => ({ id: a.id, lat: a.lat, lon: a.lon, colour: colours[owner(a)] || "#999",
      r: 2.5 + Math.min(5, Math.sqrt((a.potential || 0) / 20000)),
      label: `${a.id}${a.name ? ` ${a.name}` : ""}: ${owner(a) || "unowned"}, potential ${
        moneyShort(a.potential, cur)}` })),
    ...reps.filter((r) => r.lat !== null && r.lat !== undefined)
      .map((r) => ({ lat: r.lat, lon: r.lon, colour: colours[r.id], shape: "rep",
        label: `${r.id} (${r.region})` })),
  ];
  return h(`section${bare ? "" : ".card"}#${id}`, { "aria-labelledby": `${id}-title` },
    h(`${bare ? "h3" : "h2"}#${id}-title`, {}, title),
    h("p.sub", {}, `${int(accounts.length)} accounts (dots, sized by potential) and their reps `
      + "(squares), placed by latitude and longitude."),
    scatterMap(points, { title, highlight, height: 380 }),
    repIds.length <= 40 ? legend(repIds.map((r) => ({ name: r, colour: colours[r] }))) : null);
}

function planPanel(id, doc) {
  const regions = regionIds(doc);
  const forms = [
    runForm(id, "align", "Align territories", "Re-balance the accounts between reps with the optimiser.", [
      { name: "mode", label: "Mode", type: "select", options: ["realign", "carve"], value: "realign" },
      { name: "balance.workload", label: "Workload band (± of the mean)", type: "number",
        value: 0.1, step: 0.01 },
      { name: "max_moves", label: "At most this many moves (empty: no cap)", type: "number", step: 1 },
      { name: "tradeoff", label: "Trade-off curve instead: solve at several disruption weights",
        type: "checkbox" },
    ]),
    runForm(id, "quotas", "Set quotas", "Quotas per rep from the target, with P(attain) for each.", [
      { name: "method", label: "Quota method", type: "text", value: "blended" },
      { name: "replications", label: "Replications", type: "number", value: 200, step: 1 },
      { name: "seed", label: "Seed", type: "number", value: 0, step: 1 },
      { name: "compare_methods", label: "Compare every quota method", type: "checkbox" },
    ]),
    runForm(id, "plan-headcount", "Plan headcount", "The fewest hires for the wanted P(hit).", [
      { name: "p", label: "Wanted P(hit target)", type: "number", value: 0.8, step: 0.05 },
      { name: "start_month", label: "Hires start in month", type: "number", value: 1, step: 1 },
      { name: "max_hires", label: "At most this many hires", type: "number", value: 20, step: 1 },
      { name: "replications", label: "Replications per plan", type: "number", value: 100, step: 1 },
      { name: "regions", label: `Regions (comma-separated; empty: all of ${regions.join(", ")})`,
        type: "list" },
    ]),
    runForm(id, "simulate", "Simulate the plan", "Bookings, P(hit target) and the funnel as planned.", [
      { name: "replications", label: "Replications", type: "number", value: 200, step: 1 },
      { name: "seed", label: "Seed", type: "number", value: 0, step: 1 },
    ], "Run the simulation"),
    doc.compensation ? runForm(id, "comp", "Cost the pay plan", "Expected pay against the budget, per rep.", [
      { name: "replications", label: "Replications", type: "number", value: 200, step: 1 },
      { name: "seed", label: "Seed", type: "number", value: 0, step: 1 },
    ], "Cost it") : null,
  ].filter(Boolean);
  return h("section.card#plan", { "aria-labelledby": "t-plan" },
    h("h2#t-plan", {}, "Plan and simulate"), h("div.grid3", {}, forms));
}

/** A small form that submits a run of `kind`; the API's messages go beside their fields. */
export function runForm(scenarioId, kind, title, blurb, specs, action = `Run ${title.toLowerCase()}`) {
  const fields = specs.map((spec) => {
    if (spec.type === "checkbox") {
      const input = h("input", { name: spec.name, type: "checkbox" });
      const error = h("p.field-error", { role: "alert", hidden: true });
      const wrap = h("div.field.check", {}, h("label", {}, input, ` ${spec.label}`), error);
      return { spec, wrap, input, error };
    }
    const input = spec.type === "select"
      ? h("select", { name: spec.name }, spec.options.map((o) => h("option", { value: o,
        selected: o === spec.value }, o)))
      : h("input", { name: spec.name, type: spec.type === "number" ? "number" : "text",
        step: spec.step ?? null, value: spec.value ?? "", inputmode: spec.type === "number" ? "decimal" : null });
    return { spec, ...field(spec.label, input) };
  });
  const status = h("div.status", { role: "status" });
  const form = h(`form.run-form`, { "data-kind": kind }, h("h3", {}, title), h("p.sub", {}, blurb),
    fields.map((f) => f.wrap), h("button.primary", { type: "submit" }, action),
    status);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const options = {};
    for (const f of fields) {
      setFieldError(f, null);
      if (f.spec.type === "checkbox") {
        if (f.input.checked) options[f.spec.name] = true;
        continue;
      }
      const raw = f.input.value.trim();
      if (raw === "") continue;
      let value = raw;
      if (f.spec.type === "number") value = Number(raw);
      if (f.spec.type === "list") value = raw.split(",").map((x) => x.trim()).filter(Boolean);
      const path = f.spec.name.split(".");
      if (path.length === 2) options[path[0]] = { ...(options[path[0]] || {}), [path[1]]: value };
      else options[f.spec.name] = value;
    }
    try {
      const run = await api.post("v1/runs", { scenario_id: Number(scenarioId), kind, options });
      location.hash = `#/runs/${run.id}`;
    } catch (err) {
      showProblems(err, fields, status, (p) => p.replace(/^options\./, ""));
    }
  });
  return form;
}

/** Each problem beside the field its path names (via `toName`), the rest in `status`. */
export function showProblems(err, fields, status, toName) {
  const rest = [];
  for (const p of err.problems || []) {
    const name = toName(p.path);
    const f = fields.find((x) => x.spec.name === name
      || name.split(".")[0] === x.spec.name.split(".")[0]);
    if (f) setFieldError(f, p.message);
    else rest.push(p);
  }
  mount(status, rest.length || !(err.problems || []).length
    ? h("div.error", { role: "alert" }, h("p", {}, err.message),
      rest.length ? h("ul", {}, rest.map((p) => h("li", {}, p.path ? `${p.path}: ` : "", p.message))) : null)
    : null);
}
