// A pay plan on simulated sales, for whoever signs it off: expected pay against the budget and
// how likely it runs over, the share of reps reaching on-target pay, cost of sales, and each
// rep's expected pay with its spread.

import { api } from "../api.js";
import { bars } from "../charts.js";
import { h, mount, table } from "../dom.js";
import { int, money, moneyInterval, moneyShort, num, pct, pctInterval } from "../format.js";
import { downloads } from "../downloads.js";

export async function renderComp(el, run) {
  const [res, payouts] = await Promise.all([api.get(`v1/runs/${run.id}/result`),
    api.table(run.id, "payouts")]);
  const r = res.result;
  const cur = r.currency;
  const pay = r.total_pay;
  const budget = r.budget;
  const over = r.p_over_budget;
  const hasBudget = budget !== null && budget !== undefined;
  const tone = !hasBudget ? "base" : pay.mean > budget ? "down" : "up";
  const chart = bars(payouts.map((p) => ({ label: `${p.rep} (${p.region})`, value: p.pay_mean,
    lo: p.pay_p10, hi: p.pay_p90, colour: "#2f6fb0",
    note: `${moneyShort(p.pay_mean, cur)} (${pct(p.pay_over_ote)} of OTE)` })),
  { title: "Expected pay per rep with its P10–P90",
    fmt: (v) => moneyShort(v, cur), valueW: 170 });
  mount(el,
    h("section.headlines", {},
      h(`article.headline.${tone}.comp`, {},
        h("h2", {}, hasBudget ? `Pay against a ${moneyShort(budget, cur)} budget` : "Expected pay"),
        h("p.figure", {}, h("span.total-pay", { "data-value": pay.mean }, moneyShort(pay.mean, cur)),
          " ", h("span.interval", {}, moneyInterval(pay.ci95[0], pay.ci95[1], cur))),
        hasBudget && over ? h("p", {}, h("strong.p-over", { "data-value": over.p },
          `P(over budget) ${pct(over.p)}`), ` ${pctInterval(over.ci95[0], over.ci95[1])}`) : null,
        h("p", {}, `Cost of sales ${pct(r.cost_of_sales.mean, 1)} of ${moneyShort(r.bookings.mean, cur)} `
          + `bookings; on-target earnings ${moneyShort(r.on_target_earnings, cur)} in total.`)),
      h("article.headline", {},
        h("h2", {}, "Reps at on-target pay"),
        h("p.figure", {}, h("span.share-otp", { "data-value": r.share_at_on_target_pay.mean },
          pct(r.share_at_on_target_pay.mean)), " ", h("span.interval", {}, pctInterval(
          r.share_at_on_target_pay.ci95[0], r.share_at_on_target_pay.ci95[1]))),
        h("p", {}, `${pct(r.share_at_quota.mean)} reach quota; quotas by ${r.quotas}.`),
        r.equity ? h("p.sub", {}, `Pay equity: Gini of pay over OTE ${num(r.equity.gini_pay_ratio, 2)}; `
          + `territory explains ${pct(r.equity.territory_share)} of its variance, the rep `
          + `${pct(r.equity.rep_share)}.`) : null)),
    r.notes && r.notes.length ? h("ul.notes", {}, r.notes.map((n) => h("li", {}, n))) : null,
    h("section.card#pay-chart", { "aria-labelledby": "c-chart" }, h("h2#c-chart", {}, "Pay per rep"), chart),
    h("section.card#payouts", { "aria-labelledby": "c-payouts" }, h("h2#c-payouts", {}, "Payouts"),
      table([
        { key: "rep", label: "Rep" },
        { key: "region", label: "Region" },
        { key: "quota", label: "Quota", num: true, fmt: (v) => money(v, cur) },
        { key: "expected_attainment", label: "Attainment", num: true, fmt: (v) => pct(v) },
        { key: "on_target_earnings", label: "OTE", num: true, fmt: (v) => money(v, cur) },
        { key: "pay_mean", label: "Expected pay", num: true, fmt: (v) => money(v, cur) },
        { key: "pay_p10", label: "P10–P90", num: true,
          render: (p) => `${moneyShort(p.pay_p10, cur)}–${moneyShort(p.pay_p90, cur)}` },
        { key: "p_at_on_target_pay", label: "P(on-target pay)", num: true, fmt: (v) => pct(v) },
        { key: "effective_rate", label: "Effective rate", num: true, fmt: (v) => pct(v, 1) },
      ], payouts, { sortable: true })),
    h("details.card.stats", {}, h("summary", {}, h("h2", {}, "Pay components")),
      table([{ key: "k", label: "" }, { key: "mean", label: "Mean", num: true },
        { key: "ci", label: "95% interval", num: true }],
      ["total_pay", "base_pay", "variable_pay", "commission", "spif", "draw"].filter((k) => r[k])
        .map((k) => ({ k: k.replace("_", " "), mean: money(r[k].mean, cur),
          ci: moneyInterval(r[k].ci95[0], r[k].ci95[1], cur) }))),
      h("p.sub", {}, `${int(r.replications)} replications, seed ${r.seed}.`)),
    downloads(run.id, res));
}
