// A quota plan for planners: each rep's quota with its P(attain) and the reason for it.

import { api } from "../api.js";
import { bars } from "../charts.js";
import { h, mount, table } from "../dom.js";
import { money, moneyShort, pct, pctInterval } from "../format.js";
import { downloads } from "../downloads.js";

export async function renderQuotas(el, run) {
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
      table([
        { key: "rep", label: "Rep" },
        { key: "region", label: "Region" },
        { key: "quota", label: "Quota", num: true, fmt: (v) => money(v, cur) },
        { key: "expected_bookings", label: "Expected bookings", num: true, fmt: (v) => money(v, cur) },
        { key: "p_attain", label: "P(attain)", num: true,
          render: (x) => `${pct(x.p_attain)} ${pctInterval(x.p_attain_lo, x.p_attain_hi)}` ,
          sortValue: (x) => x.p_attain },
        { key: "why", label: "Why this quota" },
      ], reps, { sortable: true })),
    downloads(run.id, res));
}
