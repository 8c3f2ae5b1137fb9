// Tracking against targets (issue #21): the form that uploads a CRM export and targets as files
// of a scenario version and runs `track`; and the sales director's answer: where the company
// lands and how likely it is to hit, a traffic light per company, region and rep, the pace and
// the landing fans, the risk list and the actions that close the gap.

import { api, can } from "../api.js";
import { field, h, mount, setFieldError, table } from "../dom.js";
import { int, moneyShort, pct, pctInterval, points } from "../format.js";
import { downloads } from "../downloads.js";
import { viewerNote } from "../role.js";
import { showProblems } from "./scenario.js";

const CUR = "USD"; // the export carries no currency; the CLI's report writes dollars too
const LEVELS = { company: 0, region: 1, rep: 2, product: 3, segment: 4 };
const LIGHTS = { green: "on track", amber: "at risk", red: "off track" };

// ---- the form ------------------------------------------------------------------------------

/** `#/track` and `#/track/{scenario}`: the files, the mapping, the as-of date; run. */
export async function renderTrackForm(view, [scenarioId]) {
  const list = await api.get("v1/scenarios?limit=500");
  const title = h("h1", {}, "Track against targets");
  const intro = h("p.sub", {}, "Upload a CRM history export and the targets; the run replays "
    + "the export up to the as-of date (everything after it is ignored), then says where each "
    + "target stands, where it lands with its odds, who is at risk and what would close the gap.");
  if (!can("planner")) {
    mount(view, title, intro, viewerNote("running a tracking forecast"));
    return;
  }
  if (!list.count) {
    mount(view, title, intro, h("p.empty", {}, "The export travels as files of a scenario "
      + "version: upload any scenario first (", h("a", { href: "#/scenarios" }, "Scenarios"), ")."));
    return;
  }
  const latest = [...list.data].sort((a, b) => b.id - a.id)[0];
  const chosen = Number(scenarioId) || latest.id;
  const specs = [];
  const add = (name, label, input, hint) => {
    const f = field(label, input, hint);
    f.spec = { name };
    specs.push(f);
    return f;
  };
  const scenario = add("scenario_id", "Scenario version that carries the files",
    h("select", { name: "scenario_id" }, list.data.map((s) => h("option", { value: s.id,
      selected: s.id === chosen }, `#${s.id} ${s.name} (version ${s.latest_version})`))),
    "The files are saved as a new version of this scenario; its plan is not used.");
  const history = add("history", "CRM history export (CSV)",
    h("input", { type: "file", name: "history", accept: ".csv", required: true }),
    "Maven: sales_pipeline.csv; Salesforce: Opportunity.csv.");
  const targets = add("targets", "Targets (CSV: period, level, id, target)",
    h("input", { type: "file", name: "targets", accept: ".csv", required: true }),
    "period 2017Q4, 2017-11 or 2017; level company, region, rep, product or segment.");
  const teams = add("teams", "Teams (optional CSV)",
    h("input", { type: "file", name: "teams", accept: ".csv" }),
    "Maven: sales_teams.csv (rep, manager, region); read beside the export when it has that name.");
  const others = add("other", "Other files of the export (optional)",
    h("input", { type: "file", name: "other", accept: ".csv,.yaml,.yml", multiple: true }),
    "Salesforce: OpportunityHistory.csv; products.csv; a YAML mapping file (then pick it as the mapping).");
  const mapping = add("mapping", "Mapping of the export's columns",
    h("select", { name: "mapping" }, ["maven", "salesforce"].map((m) => h("option", { value: m }, m))));
  // a YAML mapping file among the other files becomes a choice of the mapping
  others.input.addEventListener("change", () => {
    const yaml = [...others.input.files].map((f) => f.name).filter((n) => /\.ya?ml$/i.test(n));
    const keep = mapping.input.value;
    mount(mapping.input, ["maven", "salesforce", ...yaml].map((m) => h("option", { value: m,
      selected: m === keep }, m)));
  });
  const asof = add("asof", "As of", h("input", { type: "date", name: "asof", required: true }),
    "The day the forecast is made (inside the export).");
  const replications = add("replications", "Replications",
    h("input", { type: "number", name: "replications", value: 1000, step: 1, min: 1 }));
  const seed = add("seed", "Seed", h("input", { type: "number", name: "seed", value: 0, step: 1 }));
  const status = h("div.status", { role: "status" });
  const button = h("button.primary", { type: "submit" }, "Upload and track");
  const form = h("form.card.track-form", { novalidate: true, "aria-labelledby": "track-form-t" },
    h("h2#track-form-t", {}, "The export and the targets"),
    h("div.grid2", {}, h("div", {}, scenario.wrap, history.wrap, targets.wrap, teams.wrap, others.wrap),
      h("div", {}, mapping.wrap, asof.wrap, replications.wrap, seed.wrap)), button, status);

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    for (const f of specs) setFieldError(f, null);
    mount(status);
    const need = [[history, "Choose the CRM export."], [targets, "Choose the targets file."]]
      .filter(([f]) => !f.input.files.length);
    if (!asof.input.value) need.push([asof, "Pick the as-of date."]);
    for (const [f, message] of need) setFieldError(f, message);
    if (need.length) return;
    button.disabled = true;
    try {
      const id = Number(scenario.input.value);
      const files = [history, targets, teams].flatMap((f) => [...f.input.files])
        .concat([...others.input.files]);
      const texts = Object.fromEntries(await Promise.all(files.map(async (f) => [f.name, await f.text()])));
      mount(status, h("p", {}, `Saving ${files.length} file${files.length === 1 ? "" : "s"} with the scenario…`));
      const sc = await api.get(`v1/scenarios/${id}`);
      const version = await api.get(`v1/scenarios/${id}/versions/${sc.latest_version}`);
      const saved = await api.put(`v1/scenarios/${id}`, { document: version.document,
        tables: { ...version.tables, ...texts } });
      const options = { history: history.input.files[0].name, targets: targets.input.files[0].name,
        asof: asof.input.value, mapping: mapping.input.value,
        replications: Number(replications.input.value), seed: Number(seed.input.value) };
      if (teams.input.files.length) options.teams = teams.input.files[0].name;
      const run = await api.post("v1/runs", { scenario_id: id, version: saved.latest_version,
        kind: "track", options });
      location.hash = `#/runs/${run.id}`;
    } catch (err) {
      showProblems(err, specs, status, (p) => p.replace(/^(body\.)?options\./, ""));
    } finally {
      button.disabled = false;
    }
  });
  mount(view, title, intro, form);
}

// ---- the result ----------------------------------------------------------------------------

const who = (row) => (row.level === "company" ? "Company" : `${row.level === "region" ? "Region"
  : row.level === "rep" ? "Rep" : row.level[0].toUpperCase() + row.level.slice(1)} ${row.id}`);

function light(status) {
  return h(`span.light.${status}`, { "data-status": status }, LIGHTS[status] || status);
}

function companyCard(row) {
  const land = row.p50 - row.target;
  return h(`article.headline.track.${row.status}`, { "data-period": row.period },
    h("h2", {}, `The company, ${row.period}: `, light(row.status)),
    h("p.figure", {}, h("span.p-hit", { "data-value": row.p_hit }, `P(hit) ${pct(row.p_hit)}`),
      " ", h("span.interval", {}, pctInterval(row.p_hit_lo, row.p_hit_hi))),
    h("p", {}, "Lands at ", h("strong.p50", { "data-value": row.p50 }, moneyShort(row.p50, CUR)),
      ` (P10 ${moneyShort(row.p10, CUR)} – P90 ${moneyShort(row.p90, CUR)}) against a target of `,
      h("strong", {}, moneyShort(row.target, CUR)), `: ${moneyShort(land, CUR, { sign: true })}.`),
    h("p", {}, `Won to date ${moneyShort(row.won_to_date, CUR)}, ${pct(row.pace)} of the `
      + `${moneyShort(row.target_to_date, CUR)} due by now; ${int(row.open_deals)} open deals worth `
      + `${moneyShort(row.pipeline, CUR)} (coverage ${row.coverage === null ? "–" : `${row.coverage.toFixed(1)}x`} `
      + "of what remains at face value; "
      + `${row.coverage_weighted === null ? "–" : `${row.coverage_weighted.toFixed(1)}x`} weighted by stage win rates).`),
    h("p.sub", {}, `Baselines: run rate ${moneyShort(row.runrate, CUR)}, weighted pipeline `
      + `${moneyShort(row.weighted_pipeline, CUR)}.`));
}

function lightsTable(rows) {
  const holder = h("div");
  const periods = new Set(rows.map((r) => r.period)).size;
  const levels = [...new Set(rows.map((r) => r.level))].sort((a, b) => LEVELS[a] - LEVELS[b]);
  const pick = h("select#lights-level", { "aria-label": "Level" },
    h("option", { value: "" }, "every level"), levels.map((l) => h("option", { value: l }, l)));
  const draw = () => {
    const shown = rows.filter((r) => !pick.value || r.level === pick.value);
    mount(holder, table([
      { key: "status", label: "Light", render: (r) => light(r.status),
        sortValue: (r) => ({ red: 0, amber: 1, green: 2 })[r.status] },
      { key: "who", label: "Who", render: (r) => who(r), sortValue: (r) => `${LEVELS[r.level]} ${r.id}` },
      periods > 1 ? { key: "period", label: "Period" } : null,
      { key: "target", label: "Target", num: true, fmt: (v) => moneyShort(v, CUR) },
      { key: "won_to_date", label: "Won to date", num: true, fmt: (v) => moneyShort(v, CUR) },
      { key: "pace", label: "Pace", num: true, fmt: (v) => pct(v) },
      { key: "p50", label: "Lands (P50)", num: true, fmt: (v) => moneyShort(v, CUR) },
      { key: "p10", label: "P10–P90", num: true, render: (r) => `${moneyShort(r.p10, CUR)}–${moneyShort(r.p90, CUR)}` },
      { key: "p_hit", label: "P(hit)", num: true, fmt: (v) => pct(v) },
      { key: "coverage_weighted", label: "Coverage (wtd)", num: true,
        fmt: (v) => (v === null || v === undefined ? "–" : `${v.toFixed(1)}x`) },
      { key: "runrate", label: "Run rate", num: true, fmt: (v) => moneyShort(v, CUR) },
      { key: "weighted_pipeline", label: "Weighted pipeline", num: true, fmt: (v) => moneyShort(v, CUR) },
    ].filter(Boolean), shown, { sortable: true, rowClass: (r) => `level-${r.level}` }));
  };
  pick.addEventListener("change", draw);
  draw();
  return h("section.card#lights", { "aria-labelledby": "t-lights" },
    h("div.card-head", {}, h("h2#t-lights", {}, "Traffic lights"),
      h("label.inline-field", {}, "Show ", pick)),
    h("p.sub", {}, "Green: P(hit) at least 70%; amber: 30–70%; red: below 30%. Pace: won to date "
      + "over the target due by now. Coverage (weighted): the open pipeline weighted by stage win "
      + "rates over what remains of the target."),
    holder);
}

function chart(runId, name, alt, caption) {
  const fig = h("figure", {}, h("p.loading", {}, "Loading the chart…"));
  api.blobUrl(`v1/runs/${runId}/charts/${name}`).then((src) => mount(fig,
    h("img", { src, alt, "data-chart": name }), h("figcaption", {}, caption)))
    .catch((err) => mount(fig, h("p.error", {}, err.message)));
  return fig;
}

/** The reasons of a risk: "a (x; not sure; n=11); b (...)" -> ["a (x; not sure; n=11)", "b (...)"]
 *  (split at "; " outside brackets only). */
export function reasons(why) {
  const out = [];
  let depth = 0;
  let start = 0;
  const text = String(why);
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === "(") depth += 1;
    else if (text[i] === ")") depth = Math.max(0, depth - 1);
    else if (depth === 0 && text.startsWith("; ", i)) {
      out.push(text.slice(start, i));
      start = i + 2;
    }
  }
  out.push(text.slice(start));
  return out.map((x) => x.trim()).filter(Boolean);
}

function risksCard(risks) {
  return h("section.card#risks", { "aria-labelledby": "t-risks" },
    h("h2#t-risks", {}, `At risk (${int(risks.length)})`),
    h("p.sub", {}, "Ranked by the gap to target times the probability of missing it. Each reason "
      + "compares with peers and says how sure the comparison is."),
    risks.length ? h("ol.risks", {}, risks.map((r) => h("li", { "data-id": r.id },
      h("p", {}, h("strong", {}, `${who(r)}, ${r.period}`), " ", light(r.status),
        ` P(hit) ${pct(r.p_hit)}; lands at ${moneyShort(r.p50, CUR)} against ${moneyShort(r.target, CUR)}; `
        + `expected shortfall ${moneyShort(r.gap, CUR)}.`),
      r.why ? h("ul.why", {}, reasons(r.why).map((w) => h(
        /\bnot sure\b/.test(w) ? "li.unsure" : "li", {}, w))) : null)))
      : h("p.empty", {}, "Nothing is at risk."));
}

function actionsCard(actions) {
  return h("section.card#actions", { "aria-labelledby": "t-actions" },
    h("h2#t-actions", {}, "Actions that close the gap"),
    h("p.sub", {}, "Each action is simulated from today's pipeline on the same random numbers as "
      + "the forecast; the lift is the paired change in P(hit) of its target with its 95% interval."),
    actions.length ? table([
      { key: "rank", label: "#", num: true },
      { key: "action", label: "Action" },
      { key: "who", label: "For", render: (a) => `${who(a)} (${a.period})`, sortValue: (a) => `${LEVELS[a.level]} ${a.id}` },
      { key: "lift", label: "Lift in P(hit)", num: true, render: (a) => (a.p_hit_base === null ? "–"
        : [h("span.nowrap", {}, points(a.lift)), " ", h("span.nowrap.note", {},
          `[${points(a.lift_lo)}, ${points(a.lift_hi)}]`)]) },
      { key: "p_hit_variant", label: "P(hit)", num: true, render: (a) => (a.p_hit_base === null ? "–"
        : h("span.nowrap", {}, `${pct(a.p_hit_base)} → ${pct(a.p_hit_variant)}`)) },
      { key: "company_lift", label: "Company lift", num: true, render: (a) => (a.p_hit_base === null
        ? "–" : points(a.company_lift)) },
      { key: "detail", label: "What it means", render: (a) => h("span", {}, a.detail,
        h("br"), h("span.note", {}, a.assumption)) },
    ], actions, { sortable: true }) : h("p.empty", {}, "No candidate actions."));
}

export async function renderTrack(el, run) {
  const res = await api.get(`v1/runs/${run.id}/result`);
  const r = res.result;
  const rows = [...r.forecast].sort((a, b) => (a.period < b.period ? -1 : a.period > b.period ? 1
    : LEVELS[a.level] - LEVELS[b.level] || String(a.id).localeCompare(String(b.id), undefined,
      { numeric: true })));
  const company = rows.filter((x) => x.level === "company");
  const has = (c) => res.charts.includes(c);
  mount(el,
    h("p.track-headline", {}, r.headline),
    h("section.headlines", {}, company.length ? company.map(companyCard)
      : h("article.headline", {}, h("h2", {}, "No company target"),
        h("p", {}, "The targets name no company total; the levels they name are below."))),
    lightsTable(rows),
    h("div.grid2", {},
      has("pace") ? h("section.card", { "aria-labelledby": "t-pace" }, h("h2#t-pace", {}, "Won to date against the pace line"),
        chart(run.id, "pace", "Won to date against the pace line per target",
          `Pace to date: ${r.target_to_date}.`)) : null,
      has("fans") ? h("section.card", { "aria-labelledby": "t-fans" }, h("h2#t-fans", {}, "Where each region lands"),
        chart(run.id, "fans", "Landing fans by region: P10 to P90 of the landing against the target",
          `The landing's P10–P90 (bands) and P50 against the target, from ${int(r.replications)} replications.`)) : null),
    risksCard(r.risks),
    actionsCard(r.actions),
    h("details.card.stats", {}, h("summary", {}, h("h2", {}, "Method and statistical detail")),
      h("p", {}, `As of ${r.asof}; ${int(r.replications)} replications, seed ${r.seed}. Target to date: `
        + `${r.target_to_date}.`),
      table([{ key: "k", label: "Baseline" }, { key: "v", label: "How" }],
        Object.entries(r.baselines || {}).map(([k, v]) => ({ k, v }))),
      r.notes && r.notes.length ? h("ul.notes", {}, r.notes.map((n) => h("li", {}, n))) : null,
      table([{ key: "k", label: "Model" }, { key: "v", label: "" }],
        Object.entries(r.model || {}).map(([k, v]) => ({ k, v: typeof v === "number"
          ? String(Math.round(v * 1e4) / 1e4) : String(v) })))),
    downloads(run.id, res));
}


