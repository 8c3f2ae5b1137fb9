// A headcount plan: the verdict and the frontier (P(hit) as hires are added, with intervals).

import { api } from "../api.js";
import { lines } from "../charts.js";
import { h, mount, table } from "../dom.js";
import { int, moneyShort, pct, pctInterval, points } from "../format.js";
import { downloads } from "../downloads.js";

export async function renderHeadcount(el, run) {
  const [res, version] = await Promise.all([api.get(`v1/runs/${run.id}/result`),
    api.get(`v1/scenarios/${run.scenario_id}/versions/${run.version}`)]);
  const r = res.result;
  const cur = version.document.horizon.currency;
  const steps = r.frontier;
  const hires = Object.entries(r.hires).map(([q, n]) => `${n} in ${q}`).join(", ") || "no hires";
  mount(el,
    h("section.headlines", {}, h(`article.headline.${r.reached ? "up" : "flat"}`, {},
      h("h2", {}, r.reached ? `Reach P(hit) ${pct(r.p_required)} with ${hires}`
        : `P(hit) ${pct(r.p_required)} is out of reach`),
      h("p.figure", {}, `P(hit) ${pct(r.p_hit)} ${pctInterval(r.p_hit_ci95[0], r.p_hit_ci95[1])}`),
      h("p", {}, r.verdict || ""),
      h("p.sub", {}, `Checked on fresh draws (seed ${r.verify_seed}): P(hit) ${pct(r.verified_p_hit)} `
        + `${pctInterval(r.verified_ci95[0], r.verified_ci95[1])}.`))),
    h("section.card", { "aria-labelledby": "h-frontier" }, h("h2#h-frontier", {}, "Frontier"),
      h("p.sub", {}, "P(hit) against the number of hires: each step adds the hire with the best "
        + "paired lift; the band is the 95% interval."),
      lines([{ name: "P(hit)", colour: "#2f6fb0", points: steps.map((s) => ({ x: s.total_hires,
        y: s.p_hit, lo: s.p_hit_ci95[0], hi: s.p_hit_ci95[1] })) }],
      { title: "P(hit target) by number of hires", xFmt: (v) => String(v), yFmt: (v) => pct(v),
        yMin: 0, yMax: 1, hline: { value: r.p_required, label: `wanted ${pct(r.p_required)}` } }),
      table([
        { key: "total_hires", label: "Hires", num: true, fmt: int },
        { key: "added", label: "Added in", fmt: (v) => v || "–" },
        { key: "p_hit", label: "P(hit)", num: true,
          render: (s) => `${pct(s.p_hit)} ${pctInterval(s.p_hit_ci95[0], s.p_hit_ci95[1])}` },
        { key: "p_hit_lift", label: "Lift (paired)", num: true, render: (s) => s.p_hit_lift === null ? "–"
          : `${points(s.p_hit_lift)} [${points(s.p_hit_lift_ci95[0])}, ${points(s.p_hit_lift_ci95[1])}]` },
        { key: "bookings_mean", label: "Bookings", num: true, fmt: (v) => moneyShort(v, cur) },
        { key: "payroll", label: "Payroll", num: true, fmt: (v) => moneyShort(v, cur) },
        { key: "accepted", label: "Kept", fmt: (v) => (v ? "yes" : "no") },
      ], steps)),
    downloads(run.id, res));
}
