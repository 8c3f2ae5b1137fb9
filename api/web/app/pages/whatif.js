// A what-if result a leader reads at a glance: a headline per variant (what it does to P(hit)
// and to bookings, with the paired interval), the mechanism, the fan chart, P(hit) by region
// and the paired differences; reps and quotas below; the statistical detail one click away.

import { api } from "../api.js";
import { bars, colour, intervals, legend, lines } from "../charts.js";
import { h, mount, table } from "../dom.js";
import { int, money, moneyInterval, moneyShort, pct, pctInterval, points } from "../format.js";
import { downloads } from "../downloads.js";
import { section } from "../scenario-data.js";
import { accountsMap } from "./scenario.js";

/** The headline of a variant against the base, in words and numbers. */
export function headline(name, v, base, cur) {
  const words = v.description || name;
  const hit = v.p_hit_target === null ? null
    : `P(hit) ${pct(base.p_hit_target)} → ${pct(v.p_hit_target)}`;
  const diff = `${moneyShort(v.diff_vs_base_mean, cur, { sign: true })} ${
    moneyInterval(v.diff_vs_base_ci95[0], v.diff_vs_base_ci95[1], cur)}`;
  const hitDiff = v.p_hit_diff === null || v.p_hit_diff === undefined ? null
    : `${points(v.p_hit_diff)} [${points(v.p_hit_diff_ci95[0])}, ${points(v.p_hit_diff_ci95[1])}]`;
  return { words, hit, diff, hitDiff };
}

function verdict(v) {
  const [lo, hi] = v.diff_vs_base_ci95;
  if (lo > 0) return ["up", "Bookings go up: the whole 95% interval of the paired difference is above zero."];
  if (hi < 0) return ["down", "Bookings go down: the whole 95% interval of the paired difference is below zero."];
  return ["flat", "No clear change: the 95% interval of the paired difference includes zero."];
}

function mechanism(v, cur) {
  const row = v.row;
  const items = [];
  if (v.mechanisms.length) items.push(h("li", {}, `Moves bookings through ${v.mechanisms.join(", ")}.`));
  if (row.new_reps > 0) {
    items.push(h("li", {}, `${int(row.new_reps)} new rep${row.new_reps === 1 ? "" : "s"} book `,
      h("strong", {}, moneyShort(row.new_reps_bookings_mean, cur)), ` ${moneyInterval(
        row.new_reps_bookings_ci95_lo, row.new_reps_bookings_ci95_hi, cur)}; the existing reps `,
      h("strong", {}, moneyShort(row.existing_reps_diff_mean, cur, { sign: true })),
      ` ${moneyInterval(row.existing_reps_diff_ci95_lo, row.existing_reps_diff_ci95_hi, cur)} (the accounts they hand over).`));
  }
  if (row.share_reps_at_quota !== null) {
    items.push(h("li", {}, `Reps at quota: ${pct(row.share_reps_at_quota)}.`));
  }
  for (const n of v.notes) items.push(h("li.note", {}, n));
  return items;
}

export async function renderWhatif(el, run) {
  const [res, regions, reps] = await Promise.all([api.get(`v1/runs/${run.id}/result`),
    api.table(run.id, "regions"), api.table(run.id, "reps")]);
  const r = res.result;
  const cur = r.currency;
  const names = Object.keys(r.variants);
  const base = r.variants[r.base];
  const others = names.filter((n) => n !== r.base);
  const target = base.row.target;

  const cards = [
    h("article.headline.base", { "data-variant": r.base },
      h("h2", {}, "As planned"),
      base.p_hit_target !== null ? h("p.figure", {}, h("span.p-hit", { "data-value": base.p_hit_target },
        `P(hit) ${pct(base.p_hit_target)}`)) : null,
      h("p", {}, "Bookings ", h("strong.bookings", { "data-value": base.bookings_mean },
        moneyShort(base.bookings_mean, cur)), ` ${moneyInterval(base.bookings_ci95[0], base.bookings_ci95[1], cur)}`,
      target !== null ? ` against a target of ${moneyShort(target, cur)}.` : ".")),
    ...others.map((n) => {
      const v = r.variants[n];
      const hl = headline(n, v, base, cur);
      const [tone, says] = verdict(v);
      return h(`article.headline.${tone}`, { "data-variant": n },
        h("h2", {}, hl.words),
        hl.hit ? h("p.figure", {}, h("span.p-hit", { "data-value": v.p_hit_target }, hl.hit)) : null,
        hl.hitDiff ? h("p.hit-change", {}, "Change in P(hit) on the same draws: ",
          h("strong.p-hit-diff", { "data-value": v.p_hit_diff }, hl.hitDiff), " (paired 95% interval)") : null,
        h("p", {}, "Bookings ", h("strong.diff", { "data-value": v.diff_vs_base_mean }, hl.diff),
          " vs as planned, to ", h("strong.bookings", { "data-value": v.bookings_mean },
            moneyShort(v.bookings_mean, cur)), "."),
        h("p.verdict", {}, says),
        h("details.mechanism", {}, h("summary", {}, "Why"), h("ul", {}, mechanism(v, cur))));
    }),
  ];

  const colours = Object.fromEntries(names.map((n, i) => [n, colour(i)]));
  const regionIds = [...new Set(regions.map((x) => x.region))];
  const regionBars = bars(regionIds.flatMap((q) => regions.filter((x) => x.region === q)
    .map((x, i) => ({ group: i === 0 ? `${q} (target ${moneyShort(x.target, cur)})` : null,
      label: x.variant, value: x.p_hit, lo: x.p_hit_ci95_lo, hi: x.p_hit_ci95_hi,
      colour: colours[x.variant] }))),
  { title: "P(region hits its target), with 95% intervals", fmt: (v) => pct(v), max: 1 });

  const diffs = others.length ? intervals(others.map((n) => ({ label: n,
    value: r.variants[n].diff_vs_base_mean, lo: r.variants[n].diff_vs_base_ci95[0],
    hi: r.variants[n].diff_vs_base_ci95[1] })),
  { title: "Bookings difference from as planned (paired, 95% interval)", fmt: (v) => moneyShort(v, cur),
    width: 900 })
    : h("p", {}, "No variants: nothing to compare.");

  const fan = h("figure.fan", {}, h("p.loading", {}, "Loading the fan chart…"));
  if (res.tables.includes("fan")) {
    api.table(run.id, "fan").then((rows) => mount(fan, fanChart(rows, names, colours, cur),
      legend([...names.map((n) => ({ name: n, colour: colours[n] })),
        { name: "target (dashed)", colour: "#1d2733" }]),
      h("figcaption", {}, "Cumulative bookings by month: median and the 10th–90th percentile "
        + "band of each variant; the dashed line is the target phased by its seasonality.")))
      .catch((err) => mount(fan, h("p.error", {}, err.message)));
  } else if (res.charts.includes("fan")) { // a run made before the fan table existed
    api.blobUrl(`v1/runs/${run.id}/charts/fan`).then((src) => mount(fan, h("img", { src,
      alt: "Cumulative bookings by month for each variant (median and 10th to 90th percentile "
        + "band) against the cumulative target" }),
    h("figcaption", {}, "Cumulative bookings by month: median and the 10th–90th percentile band of each variant; the dashed line is the target phased by its seasonality.")))
      .catch((err) => mount(fan, h("p.error", {}, err.message)));
  } else mount(fan, h("p", {}, "This run has no fan chart."));

  mount(el,
    h("section.headlines", { "aria-label": "Headlines" }, cards),
    h("div.grid2", {},
      h("section.card", { "aria-labelledby": "w-fan" }, h("h2#w-fan", {}, "Bookings over the year"), fan),
      h("section.card", { "aria-labelledby": "w-regions" }, h("h2#w-regions", {}, "P(hit) by region"),
        regionBars, legend(names.map((n) => ({ name: n, colour: colours[n] }))))),
    h("section.card", { "aria-labelledby": "w-diff" }, h("h2#w-diff", {}, "What changes it"),
      h("p.sub", {}, "Each variant against the plan on the same random draws (common random numbers): "
        + "a green interval is a gain, a red one a loss, a grey one could be either."), diffs),
    res.tables.includes("owners") ? territories(run, cur) : null,
    repsSection(reps, names, cur),
    statDetail(r, names, cur),
    downloads(run.id, res));
}

function repsSection(reps, names, cur) {
  const select = h("select#reps-variant", {}, names.map((n) => h("option", { value: n }, n)));
  const holder = h("div");
  const draw = () => mount(holder, table([
    { key: "rep", label: "Rep" },
    { key: "region", label: "Region" },
    { key: "quota", label: "Quota", num: true, fmt: (v) => money(v, cur) },
    { key: "bookings_mean", label: "Expected bookings", num: true, fmt: (v) => money(v, cur) },
    { key: "attainment_mean", label: "Attainment", num: true, fmt: (v) => pct(v) },
    { key: "p_attain", label: "P(attain quota)", num: true, fmt: (v) => pct(v) },
  ], reps.filter((x) => x.variant === select.value), { sortable: true,
    caption: "Click a column to sort" }));
  select.addEventListener("change", draw);
  draw();
  return h("section.card#reps", { "aria-labelledby": "w-reps" },
    h("h2#w-reps", {}, "Reps: quota and attainment"),
    h("p", {}, h("label", { for: "reps-variant" }, "Variant "), select), holder);
}

function statDetail(r, names, cur) {
  const rows = names.map((n) => r.variants[n].row);
  return h("details.card.stats", {}, h("summary", {}, h("h2", {}, "Statistical detail")),
    h("p.sub", {}, `${int(r.replications)} replications per variant, seed ${r.seed}; `
      + "every variant uses the same random numbers as the base (common random numbers), so "
      + "differences are paired per replication. Intervals are 95%."),
    table([
      { key: "variant", label: "Variant" },
      { key: "p_hit_target", label: "P(hit) [95% CI]", num: true,
        render: (x) => `${pct(x.p_hit_target, 1)} ${pctInterval(x.p_hit_ci95_lo, x.p_hit_ci95_hi, 1)}` },
      { key: "bookings_mean", label: "Bookings mean [95% CI]", num: true,
        render: (x) => `${moneyShort(x.bookings_mean, cur)} ${moneyInterval(x.bookings_ci95_lo, x.bookings_ci95_hi, cur)}` },
      { key: "p10", label: "P10 / P50 / P90", num: true, render: (x) => [x.bookings_p10,
        x.bookings_p50, x.bookings_p90].map((v) => moneyShort(v, cur)).join(" / ") },
      { key: "diff", label: "vs base, paired [95% CI]", num: true,
        render: (x) => `${moneyShort(x.diff_vs_base_mean, cur, { sign: true })} ${moneyInterval(x.diff_vs_base_ci95_lo, x.diff_vs_base_ci95_hi, cur)}` },
      { key: "widths", label: "CI width paired / unpaired", num: true,
        render: (x) => `${moneyShort(x.paired_ci95_width, cur)} / ${moneyShort(x.unpaired_ci95_width, cur)}` },
      { key: "won_mean", label: "Deals won", num: true, fmt: (v) => int(v) },
      { key: "cost_mean", label: "Sales cost", num: true, fmt: (v) => moneyShort(v, cur) },
      { key: "pay_mean", label: "Pay under the plan", num: true, fmt: (v) => moneyShort(v, cur) },
      { key: "cost_of_sales", label: "Cost of sales", num: true, fmt: (v) => pct(v, 1) },
    ], rows));
}

/** While the run is going: the estimates so far (the run's `partial`: P(hit) and the paired
 *  difference per variant after each round of replications), narrowing as more finish. */
renderWhatif.early = (el, run) => {
  const p = run.partial;
  const names = Object.keys(p.variants || {});
  if (!names.length) return null;
  const cur = run.currency || "USD";
  const others = names.filter((n) => n !== p.base);
  mount(el, h("section.card.early", { "aria-labelledby": "w-early", "data-done": p.replications_done },
    h("h2#w-early", {}, "First estimates"),
    h("p.sub", {}, `From ${int(p.replications_done)} of ${int(p.replications)} replications per `
      + "variant; the intervals narrow as more finish, and the result replaces them."),
    h("div.grid2", {},
      bars(names.map((n, i) => {
        const v = p.variants[n];
        return { label: n, value: v.p_hit, lo: v.p_hit_ci95 ? v.p_hit_ci95[0] : null,
          hi: v.p_hit_ci95 ? v.p_hit_ci95[1] : null, colour: colour(i),
          note: v.p_hit === null ? "no target" : `${pct(v.p_hit)} ${pctInterval(v.p_hit_ci95[0], v.p_hit_ci95[1])}` };
      }), { title: "P(hit target) so far, with 95% intervals", fmt: (v) => pct(v), max: 1, valueW: 150 }),
      others.length ? intervals(others.map((n) => ({ label: n, value: p.variants[n].diff_vs_base_mean,
        lo: p.variants[n].diff_vs_base_ci95[0], hi: p.variants[n].diff_vs_base_ci95[1] })),
      { title: "Bookings difference from as planned so far (paired, 95% interval)",
        fmt: (v) => moneyShort(v, cur) }) : null)));
  return p;
};

const SHORT = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** "2027-03" -> "Mar" (January also shows its year: "Jan 27"). */
function shortMonth(label) {
  const m = /^(\d{4})-(\d{2})$/.exec(String(label || ""));
  if (!m) return label;
  const name = SHORT[Number(m[2]) - 1];
  return m[2] === "01" ? `${name} ${m[1].slice(2)}` : name;
}

/** The fan chart from the run's ``fan`` table: per variant the median of cumulative bookings
 *  with its P10-P90 band, and the phased target (dashed; a variant that changes the target
 *  gets its own dashed line). */
export function fanChart(rows, names, colours, cur) {
  const of = (n) => rows.filter((x) => x.variant === n).sort((a, b) => a.month - b.month);
  const labels = Object.fromEntries(of(names[0]).map((x) => [x.month, x.month_label]));
  const series = names.map((n) => ({ name: n, colour: colours[n], dots: false,
    points: of(n).map((x) => ({ x: x.month, y: x.p50, lo: x.p10, hi: x.p90 })) }));
  const baseTarget = of(names[0]).map((x) => x.target);
  names.forEach((n, i) => {
    const t = of(n);
    if (t.some((x) => x.target === null)) return;
    if (i > 0 && t.every((x, k) => Math.abs(x.target - baseTarget[k]) < 1e-6)) return;
    series.push({ name: i ? `target (${n})` : "target", colour: i ? colours[n] : "#1d2733",
      dashed: true, dots: false, points: t.map((x) => ({ x: x.month, y: x.target })) });
  });
  return lines(series, { title: "Cumulative bookings by month, median and P10–P90 per variant, "
    + "against the phased target", xFmt: (k) => shortMonth(labels[k]) || String(k),
  yFmt: (v) => moneyShort(v, cur), yMin: 0, width: 640, height: 320 });
}

/** The territory map before and after, for the variants that move accounts (a re-align, a
 *  hire's hand-over): the run's ``owners`` table lists only the moved accounts; the rest keep
 *  the scenario's owners. Empty (no card) when no variant moves an account. */
function territories(run, cur) {
  const card = h("section.card#territories", { "aria-labelledby": "w-terr", hidden: true });
  Promise.all([api.table(run.id, "owners"),
    api.get(`v1/scenarios/${run.scenario_id}/versions/${run.version}`)]).then(([moves, version]) => {
    if (!moves.length) return;
    const accounts = section(version, "accounts");
    const known = section(version, "reps");
    const extra = [...new Set(moves.map((m) => m.owner_after))].filter((id) => !known.some((r) => r.id === id))
      .map((id) => ({ id, region: "", lat: null, lon: null }));
    const reps = [...known, ...extra];
    const variants = [...new Set(moves.map((m) => m.variant))];
    const pick = h("select#terr-variant", {}, variants.map((v) => h("option", { value: v }, v)));
    const choice = (value, label, checked) => h("label.radio", {}, h("input", { type: "radio",
      name: "terr-when", value, checked }), ` ${label}`);
    const when = h("fieldset.map-when", {}, h("legend", {}, "Show owners"),
      choice("after", "after", true), choice("before", "before"));
    const holder = h("div");
    const summary = h("p.sub");
    const draw = () => {
      const mine = moves.filter((m) => m.variant === pick.value);
      const after = Object.fromEntries(mine.map((m) => [m.account, m.owner_after]));
      const moved = new Set(Object.keys(after));
      const isAfter = when.querySelector("input:checked").value === "after";
      const later = mine.filter((m) => m.handover_date).length;
      summary.textContent = `${int(mine.length)} account${mine.length === 1 ? "" : "s"} change owner in ${
        pick.value} (outlined)${later ? `; ${int(later)} of them on the new owner's start date` : ""}.`;
      mount(holder, accountsMap(reps, accounts, cur, { id: "whatif-map", bare: true,
        owner: (a) => (isAfter && after[a.id]) || a.owner,
        title: isAfter ? `Territories in ${pick.value}` : "Territories as planned",
        highlight: (p) => moved.has(p.id) }));
    };
    pick.addEventListener("change", draw);
    when.addEventListener("change", draw);
    draw();
    mount(card, h("h2#w-terr", {}, "Territories before and after"),
      h("div.card-head", {}, h("label.inline-field", {}, "Variant ", pick), when), summary, holder);
    card.hidden = false;
  }).catch((err) => { mount(card, h("p.error", {}, err.message)); card.hidden = false; });
  return card;
}
