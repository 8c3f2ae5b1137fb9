// Reading a scenario version as the API returns it (the validated document, table sections as
// references to its CSV tables) into the figures the pages show.

import { parseCsv } from "./api.js";

/** A section that is either inline rows or the name of one of the version's CSV tables. */
export function section(version, name) {
  const v = version.document[name];
  if (typeof v === "string") {
    const text = version.tables[v];
    return text === undefined ? [] : parseCsv(text);
  }
  return Array.isArray(v) ? v : [];
}

export function regionIds(doc) {
  return (doc.regions || []).map((r) => r.id);
}

/** Region -> share of the company target (fractions summing to 1): by_region when given, else
 *  by account potential (as the what-if report splits it). */
export function targetSplit(doc, accounts) {
  const ids = regionIds(doc);
  const t = doc.targets;
  if (!t) return null;
  if (t.by_region && Object.keys(t.by_region).length) {
    return Object.fromEntries(ids.map((r) => [r, t.by_region[r] ?? 0]));
  }
  const pot = Object.fromEntries(ids.map((r) => [r, 0]));
  for (const a of accounts) pot[a.region] = (pot[a.region] ?? 0) + (a.potential || 0);
  const total = Object.values(pot).reduce((x, y) => x + y, 0);
  return Object.fromEntries(ids.map((r) => [r, total > 0 ? pot[r] / total : 1 / ids.length]));
}

/** Expected leads per horizon month and region: leads_per_month x seasonality[calendar month]
 *  x (1 + annual_growth) ^ (months since the start / 12), as the simulator draws them. */
export function leadVolume(doc) {
  const months = doc.horizon.months;
  const startMonth = Number(doc.horizon.start.slice(5, 7)) - 1;
  const out = Object.fromEntries(regionIds(doc).map((r) => [r, new Array(months).fill(0)]));
  for (const src of doc.lead_sources || []) {
    for (let k = 0; k < months; k += 1) {
      const season = src.seasonality ? src.seasonality[(startMonth + k) % 12] : 1;
      const growth = (1 + (src.annual_growth || 0)) ** (k / 12);
      out[src.region][k] += src.leads_per_month * season * growth;
    }
  }
  return out;
}

/** The funnel: each stage's conversion, mean days, and the share of leads reaching it. */
export function funnel(doc) {
  let reach = 1;
  return (doc.stages || []).map((st) => {
    const row = { name: st.name, conversion: st.conversion,
      days: st.duration ? st.duration.mean : null, reach,
      overrides: (st.overrides || []).length };
    reach *= st.conversion;
    return row;
  });
}

export function winRate(doc) {
  return (doc.stages || []).reduce((p, st) => p * st.conversion, 1);
}
