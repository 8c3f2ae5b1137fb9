// A simulation of the plan as a leader reads it: how likely the target is, where bookings land
// (their distribution over the replications against the target), the funnel that produces
// them, each rep's bookings, and pipeline coverage month by month.

import { api } from "../api.js";
import { bars, histogram } from "../charts.js";
import { h, mount, table } from "../dom.js";
import { int, moneyInterval, moneyShort, num, pct, pctInterval } from "../format.js";
import { downloads } from "../downloads.js";

/** Bookings per replication (the bookings table sums reps and months). */
export function bookingsPerReplication(rows) {
  const total = new Map();
  for (const r of rows) total.set(r.replication, (total.get(r.replication) || 0) + r.bookings);
  return [...total.values()];
}

export async function renderSimulate(el, run) {
  const [res, funnel, reps, coverage] = await Promise.all([api.get(`v1/runs/${run.id}/result`),
    api.table(run.id, "funnel"), api.table(run.id, "reps"), api.table(run.id, "coverage")]);
  const r = res.result;
  const cur = r.currency;
  const b = r.bookings;
  const hasTarget = r.target !== null && r.target !== undefined;
  const perRep = await api.table(run.id, "bookings");
  const totals = bookingsPerReplication(perRep);
  const f = r.funnel || {};

  mount(el,
    h("section.headlines", {},
      h("article.headline.base.simulate", {},
        h("h2", {}, hasTarget ? `Hitting the ${moneyShort(r.target, cur)} target` : "Bookings"),
        hasTarget ? h("p.figure", {}, h("span.p-hit", { "data-value": r.p_hit_target },
          `P(hit) ${pct(r.p_hit_target)}`), " ", h("span.interval", {},
          pctInterval(r.p_hit_target_ci95[0], r.p_hit_target_ci95[1]))) : null,
        h("p", {}, "Bookings ", h("strong.bookings", { "data-value": b.mean }, moneyShort(b.mean, cur)),
          ` ${moneyInterval(b.ci95[0], b.ci95[1], cur)} on average; in 8 of 10 runs between `
          + `${moneyShort(b.p10, cur)} and ${moneyShort(b.p90, cur)}.`),
        h("p.sub", {}, `${int(r.replications)} replications, seed ${r.seed}, routing ${r.routing}.`)),
      h("article.headline", {},
        h("h2", {}, "The funnel"),
        h("p.figure", {}, `${pct(f.win_rate, 1)} of leads won`),
        h("p", {}, `${int(f.leads_per_replication)} leads and ${int(r.won_deals.mean)} won deals a run; `
          + `a won deal takes ${num(f.cycle_time_mean_days, 0)} days on average (median `
          + `${num(f.cycle_time_median_days, 0)}); the pipeline books ${moneyShort(f.sales_velocity_per_day, cur)} a day.`),
        r.unrouted_leads > 0 ? h("p.note", {}, `${num(r.unrouted_leads, 1)} leads a run found no rep.`) : null)),
    h("div.grid2", {},
      h("section.card#distribution", { "aria-labelledby": "s-dist" },
        h("h2#s-dist", {}, "Where bookings land"),
        h("p.sub", {}, `Total bookings of each of the ${int(totals.length)} replications`
          + (hasTarget ? "; gold: short of the target." : ".")),
        histogram(totals, { title: "Bookings per replication", fmt: (v) => moneyShort(v, cur),
          reference: hasTarget ? { value: r.target, label: `target ${moneyShort(r.target, cur)}` } : null })),
      h("section.card#funnel", { "aria-labelledby": "s-funnel" },
        h("h2#s-funnel", {}, "Stage by stage"),
        bars(funnel.map((st) => ({ label: st.stage, value: st.conversion, colour: "#2f6fb0",
          note: `${pct(st.conversion)} of ${int(st.entered)} · ${num(st.mean_days, 0)} d` })),
        { title: "Conversion per stage (share of the deals entering it that advance)",
          fmt: (v) => pct(v), max: 1, valueW: 170 }),
        table([
          { key: "stage", label: "Stage" },
          { key: "entered", label: "Deals entering (a run)", num: true, fmt: int },
          { key: "conversion", label: "Advance", num: true, fmt: (v) => pct(v) },
          { key: "mean_days", label: "Mean days", num: true, fmt: (v) => num(v, 0) },
        ], funnel))),
    h("section.card#sim-reps", { "aria-labelledby": "s-reps" }, h("h2#s-reps", {}, "Reps"),
      table([
        { key: "rep", label: "Rep" },
        { key: "region", label: "Region" },
        { key: "bookings", label: "Bookings", num: true, fmt: (v) => moneyShort(v, cur) },
        { key: "bookings_p10", label: "P10–P90", num: true,
          render: (x) => `${moneyShort(x.bookings_p10, cur)}–${moneyShort(x.bookings_p90, cur)}` },
        { key: "won_deals", label: "Won deals", num: true, fmt: (v) => num(v, 1) },
        { key: "utilisation", label: "Utilisation", num: true, fmt: (v) => pct(v) },
        { key: "mean_wait_days", label: "Lead wait (days)", num: true, fmt: (v) => num(v, 1) },
      ], reps, { sortable: true })),
    h("section.card#coverage", { "aria-labelledby": "s-cov" }, h("h2#s-cov", {}, "Pipeline coverage by month"),
      h("p.sub", {}, "Open pipeline over the target still to book, at each month's end (means over the replications)."),
      table([
        { key: "month", label: "Month", num: true },
        { key: "cumulative_bookings", label: "Booked so far", num: true, fmt: (v) => moneyShort(v, cur) },
        { key: "open_pipeline_value", label: "Open pipeline", num: true, fmt: (v) => moneyShort(v, cur) },
        { key: "remaining_target", label: "Target left", num: true, fmt: (v) => moneyShort(v, cur) },
        { key: "coverage", label: "Coverage", num: true, fmt: (v) => (v === null ? "–" : `${num(v, 1)}x`) },
        { key: "headcount", label: "Reps", num: true, fmt: (v) => num(v, 1) },
      ], coverage)),
    h("details.card.stats", {}, h("summary", {}, h("h2", {}, "Statistical detail")),
      table([{ key: "k", label: "" }, { key: "mean", label: "Mean", num: true },
        { key: "ci", label: "95% interval", num: true }, { key: "p", label: "P10 / P50 / P90", num: true }], [
        { k: "bookings", mean: moneyShort(b.mean, cur), ci: moneyInterval(b.ci95[0], b.ci95[1], cur),
          p: `${moneyShort(b.p10, cur)} / ${moneyShort(b.p50, cur)} / ${moneyShort(b.p90, cur)}` },
        { k: "won deals", mean: num(r.won_deals.mean, 1),
          ci: `[${num(r.won_deals.ci95[0], 1)}, ${num(r.won_deals.ci95[1], 1)}]`,
          p: `${num(r.won_deals.p10, 0)} / ${num(r.won_deals.p50, 0)} / ${num(r.won_deals.p90, 0)}` },
      ])),
    downloads(run.id, res));
}
