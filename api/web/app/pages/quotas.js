// A quota plan for planners: each rep's quota with its P(attain) and the reason for it.

import { api } from "../api.js";
import { bars } from "../charts.js";
import { h, mount, table } from "../dom.js";
import { int, money, moneyShort, num, pct, pctInterval } from "../format.js";
import { downloads } from "../downloads.js";

function repsTable(reps, cur) {
  return table([
    { key: "rep", label: "Rep" },
    { key: "region", label: "Region" },
    { key: "quota", label: "Quota", num: true, fmt: (v) => money(v, cur) },
    { key: "expected_bookings", label: "Expected bookings", num: true, fmt: (v) => money(v, cur) },
    { key: "p_attain", label: "P(attain)", num: true,
      render: (x) => `${pct(x.p_attain)} ${pctInterval(x.p_attain_lo, x.p_attain_hi)}`,
      sortValue: (x) => x.p_attain },
    { key: "why", label: "Why this quota" },
  ], reps, { sortable: true });
}

export async function renderQuotas(el, run) {
  if (run.options.compare_methods) return renderMethods(el, run);
  const [res, reps] = await Promise.all([api.get(`v1/runs/${run.id}/result`),
    api.table(run.id, "reps")]);
  const r = res.result;
  const cur = r.currency;
  mount(el,
    h("section.headlines", {}, h("article.headline", {},
      h("h2", {}, `Quotas by ${r.method_label || r.method}`),
      h("p.figure", {}, `${moneyShort(r.total_quota, cur)} assigned for a ${moneyShort(r.target, cur)} target`),
      h("p", {}, `Expected share of reps attaining: ${pct(r.expected_share_attaining)}; `
        + `P(attain) ranges ${pct(r.p_attain_min)}–${pct(r.p_attain_max)}.`),
      r.notes && r.notes.length ? h("ul.notes", {}, r.notes.map((n) => h("li", {}, n))) : null)),
    h("section.card", { "aria-labelledby": "q-p" }, h("h2#q-p", {}, "P(attain quota) per rep"),
      bars(reps.map((x) => ({ label: x.rep, value: x.p_attain, lo: x.p_attain_lo,
        hi: x.p_attain_hi, colour: "#2f6fb0" })), { title: "P(attain quota) per rep, 95% intervals",
        fmt: (v) => pct(v), max: 1 })),
    h("section.card#quota-table", { "aria-labelledby": "q-table" }, h("h2#q-table", {}, "Quotas"),
      repsTable(reps, cur)),
    downloads(run.id, res));
}

/** Every quota method side by side on the same simulated sales: how evenly each spreads
 *  P(attain), the expected share of reps attaining, fairness to potential and, with a pay plan,
 *  cost of sales; each method's quotas one choice away. */
async function renderMethods(el, run) {
  const [res, version] = await Promise.all([api.get(`v1/runs/${run.id}/result`),
    api.get(`v1/scenarios/${run.scenario_id}/versions/${run.version}`)]);
  const cur = version.document.horizon.currency;
  const methods = res.result.methods;
  const ok = methods.filter((m) => !m.error);
  const pay = ok.some((m) => m.cost_of_sales !== null && m.cost_of_sales !== undefined);
  const most = [...ok].sort((a, b) => b.expected_share_attaining - a.expected_share_attaining)[0];
  const even = [...ok].sort((a, b) => a.p_attain_std - b.p_attain_std)[0];
  const repsHolder = h("div");
  const pick = h("select#method-reps", { "aria-label": "Method" },
    ok.map((m) => h("option", { value: m.method }, m.method)));
  const showReps = async () => {
    mount(repsHolder, h("p.loading", {}, "Loading…"));
    const method = pick.value;
    const rows = await api.table(run.id, `reps_${method}`);
    if (method !== pick.value) return; // another method was picked meanwhile
    mount(repsHolder, repsTable(rows, cur));
    repsHolder.dataset.method = method;
  };
  pick.addEventListener("change", showReps);
  mount(el,
    h("section.headlines", {}, h("article.headline", {},
      h("h2", {}, `${int(ok.length)} quota methods compared`),
      most ? h("p.figure", {}, `Most reps attaining: ${most.method} (${pct(most.expected_share_attaining)})`) : null,
      even ? h("p", {}, `Most even P(attain) across reps: ${even.method} (standard deviation `
        + `${pct(even.p_attain_std)}). Same target, same simulated sales for every method.`) : null,
      methods.filter((m) => m.error).map((m) => h("p.error", {}, `${m.method}: ${m.error}`)))),
    h("section.card#methods", { "aria-labelledby": "q-methods" },
      h("h2#q-methods", {}, "Methods side by side"),
      bars(ok.map((m) => ({ label: m.method, value: m.expected_share_attaining,
        lo: m.expected_share_attaining - 1.96 * m.expected_share_attaining_se,
        hi: m.expected_share_attaining + 1.96 * m.expected_share_attaining_se, colour: "#2f6fb0" })),
      { title: "Expected share of reps attaining quota, 95% intervals", fmt: (v) => pct(v), max: 1 }),
      table([
        { key: "method", label: "Method" },
        { key: "expected_share_attaining", label: "Reps attaining", num: true, fmt: (v) => pct(v) },
        { key: "p_attain_min", label: "P(attain) range", num: true,
          render: (m) => `${pct(m.p_attain_min)}–${pct(m.p_attain_max)}` },
        { key: "p_attain_std", label: "P(attain) spread (sd)", num: true, fmt: (v) => pct(v) },
        { key: "quota_potential_gini", label: "Quota/potential Gini", num: true, fmt: (v) => num(v, 2) },
        pay ? { key: "cost_of_sales", label: "Cost of sales", num: true, fmt: (v) => pct(v, 1) } : null,
        pay ? { key: "share_at_on_target_pay", label: "At on-target pay", num: true, fmt: (v) => pct(v) } : null,
        { key: "notes", label: "Notes", render: (m) => h("span.note", {}, m.notes || "") },
      ].filter(Boolean), methods, { sortable: true })),
    h("section.card#quota-table", { "aria-labelledby": "q-table" },
      h("div.card-head", {}, h("h2#q-table", {}, "Quotas by method"),
        h("label.inline-field", {}, "Method ", pick)), repsHolder),
    downloads(run.id, res));
  await showReps();
}
