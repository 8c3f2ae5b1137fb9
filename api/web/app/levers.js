// The what-if levers as forms: for each lever its fields (with the scenario's regions, reps,
// stages, products... as choices) and a sentence that says what it does. The fields and their
// names are those of the scenario format (docs/whatif.md); the API validates the values.

import { horizonMonth, pct } from "./format.js";

const factor = (name = "factor", label = "Factor (1 = unchanged, 1.1 = +10%)") =>
  ({ name, label, type: "number", step: 0.05, required: true });
const optional = (name, label, from) => ({ name, label, type: "select", from, optional: true });

export const LEVERS = {
  hire: { label: "Hire reps in a region", fields: [
    { name: "region", label: "Region", type: "select", from: "regions", required: true },
    { name: "count", label: "How many", type: "int", required: true, value: 1 },
    { name: "start_month", label: "From", type: "month", value: 1 },
    { name: "ramp_months", label: "Ramp (months; empty: the region's usual)", type: "number", step: 0.5 },
  ], words: (l, d) => `Hire ${l.count ?? "?"} in ${l.region ?? "?"} from ${monthName(d, l.start_month ?? 1)}` },
  departure: { label: "Lose a rep", fields: [
    optional("rep", "Rep (or the top performers below)", "reps"),
    { name: "top", label: "Or: this many top performers", type: "int" },
    optional("region", "Top performers of region", "regions"),
    { name: "month", label: "Leaves in", type: "month", required: true, value: 1 },
    { name: "backfill", label: "Backfilled", type: "bool" },
  ], words: (l, d) => `${l.rep ? `${l.rep} leaves` : `Top ${l.top ?? "?"} leave`} in ${monthName(d, l.month ?? 1)}` },
  lead_volume: { label: "Lead volume", fields: [factor(),
    optional("region", "Region (empty: all)", "regions"),
    optional("source", "Lead source (empty: all)", "sources")],
  words: (l) => `Lead volume ${change(l.factor)}${l.region ? ` in ${l.region}` : ""}` },
  conversion: { label: "Conversion", fields: [factor(),
    { name: "stage", label: "Stage", type: "select", from: "stagesAll", value: "all" },
    optional("product", "Product (empty: all)", "products"),
    optional("segment", "Segment (empty: all)", "segments")],
  words: (l) => `Conversion ${change(l.factor)}${l.stage && l.stage !== "all" ? ` at ${l.stage}` : ""}` },
  cycle_time: { label: "Cycle time", fields: [factor(),
    { name: "stage", label: "Stage", type: "select", from: "stagesAll", value: "all" },
    optional("product", "Product (empty: all)", "products"),
    optional("segment", "Segment (empty: all)", "segments")],
  words: (l) => `Cycle time ${change(l.factor)}` },
  deal_size: { label: "Deal size", fields: [factor(), optional("product", "Product (empty: all)", "products")],
    words: (l) => `Deal size ${change(l.factor)}${l.product ? ` for ${l.product}` : ""}` },
  price: { label: "Price", fields: [factor(), optional("product", "Product (empty: all)", "products"),
    { name: "conversion_factor", label: "Conversion factor that comes with it", type: "number", step: 0.05 }],
  words: (l) => `Price ${change(l.factor)}${l.product ? ` for ${l.product}` : ""}` },
  target: { label: "Target", fields: [
    { name: "factor", label: "Factor (empty if an amount is given)", type: "number", step: 0.05 },
    { name: "amount", label: "Or: new company target", type: "number", step: 1000 }],
  words: (l) => (l.amount ? `Target of ${Math.round(l.amount).toLocaleString("en-US")}` : `Target ${change(l.factor)}`) },
  capacity: { label: "Rep capacity", fields: [factor(), optional("region", "Region (empty: all)", "regions")],
    words: (l) => `Capacity ${change(l.factor)}` },
  attrition: { label: "Attrition", fields: [
    { name: "factor", label: "Factor on attrition rates", type: "number", step: 0.1 },
    { name: "monthly_rate", label: "Or: monthly rate", type: "number", step: 0.005 },
    optional("region", "Region (empty: all)", "regions")],
  words: (l) => (l.monthly_rate !== undefined ? `Attrition ${pct(l.monthly_rate, 1)} a month` : `Attrition ${change(l.factor)}`) },
  realign: { label: "Re-align territories", fields: [
    { name: "mode", label: "Mode", type: "select", options: ["realign", "carve"], value: "realign" },
    { name: "balance.workload", label: "Workload band (± of the mean)", type: "number", step: 0.01, value: 0.1 },
    { name: "max_moves", label: "At most this many moves", type: "int" }],
  words: (l) => `Re-align territories${l.max_moves !== undefined ? ` (at most ${l.max_moves} moves)` : ""}` },
  quota_method: { label: "Quota method", fields: [
    { name: "method", label: "Method", type: "text", required: true, value: "blended" },
    { name: "over_assign", label: "Over-assignment (sum of quotas / target)", type: "number", step: 0.05 }],
  words: (l) => `Quotas by ${l.method ?? "?"}` },
  routing: { label: "Lead routing", fields: [
    { name: "strategy", label: "Routing strategy", type: "text", required: true }],
  words: (l) => `Route leads by ${l.strategy ?? "?"}` },
  response_half_life: { label: "Lead response", fields: [
    { name: "days", label: "Half-life of an unanswered lead (days)", type: "number", step: 1, required: true }],
  words: (l) => `Lead half-life ${l.days ?? "?"} days` },
};

function change(f) {
  if (f === undefined || f === null || Number.isNaN(f)) return "changed";
  const d = Math.round((f - 1) * 100);
  return d === 0 ? "unchanged" : `${d > 0 ? "+" : ""}${d}%`;
}

function monthName(doc, k) {
  try {
    return horizonMonth(doc.horizon.start, Number(k)).replace(/ \d+$/, "");
  } catch {
    return `month ${k}`;
  }
}

/** The choices a select field offers, from the scenario document and its reps. */
export function choices(from, doc, reps) {
  switch (from) {
    case "regions": return doc.regions.map((r) => r.id);
    case "reps": return reps.map((r) => r.id);
    case "products": return (doc.products || []).map((p) => p.id);
    case "segments": return (doc.segments || []).map((p) => p.id);
    case "sources": return (doc.lead_sources || []).map((p) => p.id);
    case "stagesAll": return ["all", ...(doc.stages || []).map((s) => s.name)];
    default: return [];
  }
}

/** A sentence for a variant from its levers ("Hire 2 in North from March; Lead volume +10%"). */
export function describe(levers, doc) {
  return levers.map((l) => LEVERS[l.lever].words(l, doc)).join("; ");
}
