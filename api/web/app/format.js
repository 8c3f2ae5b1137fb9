// Numbers for people: currency, percentages, thousands. Missing values show as an en dash.

const DASH = "–";
const missing = (v) => v === null || v === undefined || Number.isNaN(v);

export function int(v) {
  return missing(v) ? DASH : Math.round(v).toLocaleString("en-US");
}

export function num(v, digits = 1) {
  return missing(v) ? DASH : v.toLocaleString("en-US", {
    minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** 0.925 -> "93%" (digits after the point as asked). */
export function pct(v, digits = 0) {
  return missing(v) ? DASH : `${(v * 100).toFixed(digits)}%`;
}

/** Percentage points with a sign: 0.05 -> "+5.0 pts". */
export function points(v, digits = 1) {
  return missing(v) ? DASH : `${v >= 0 ? "+" : "−"}${Math.abs(v * 100).toFixed(digits)} pts`;
}

const SYMBOLS = { USD: "$", EUR: "€", GBP: "£", JPY: "¥", CAD: "CA$", AUD: "A$" };

function symbol(currency) {
  return SYMBOLS[currency] ?? `${currency} `;
}

/** Full amount: 1538135.9 -> "$1,538,136". */
export function money(v, currency = "USD") {
  if (missing(v)) return DASH;
  const s = `${symbol(currency)}${Math.abs(Math.round(v)).toLocaleString("en-US")}`;
  return v < 0 ? `−${s}` : s;
}

/** Short amount: 1538135.9 -> "$1.54M", 15640 -> "$15.6k". `sign` adds "+" for gains. */
export function moneyShort(v, currency = "USD", { sign = false } = {}) {
  if (missing(v)) return DASH;
  const a = Math.abs(v);
  let body;
  if (a >= 1e9) body = `${(a / 1e9).toFixed(2)}B`;
  else if (a >= 1e6) body = `${(a / 1e6).toFixed(a >= 1e8 ? 0 : 2)}M`;
  else if (a >= 1e3) body = `${(a / 1e3).toFixed(a >= 1e5 ? 0 : 1)}k`;
  else body = a.toFixed(0);
  const lead = v < 0 ? "−" : sign ? "+" : "";
  return `${lead}${symbol(currency)}${body}`;
}

/** An interval in short money: "[$4.6k, $26.6k]". */
export function moneyInterval(lo, hi, currency = "USD") {
  return `[${moneyShort(lo, currency)}, ${moneyShort(hi, currency)}]`;
}

export function pctInterval(lo, hi, digits = 0) {
  return `[${pct(lo, digits)}, ${pct(hi, digits)}]`;
}

/** "2026-12-07T08:01:29+00:00" -> local date and time. */
export function when(iso) {
  if (!iso) return DASH;
  const d = new Date(iso);
  return d.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

export function seconds(v) {
  if (missing(v)) return DASH;
  return v < 60 ? `${v.toFixed(1)} s` : `${Math.floor(v / 60)} min ${Math.round(v % 60)} s`;
}

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
  "September", "October", "November", "December"];

/** Month `k` (1-based) of a horizon starting on `start` ("2027-01-01") -> "March 2027". */
export function horizonMonth(start, k) {
  const [y, m] = start.split("-").map(Number);
  const idx = m - 1 + (k - 1);
  return `${MONTHS[idx % 12]} ${y + Math.floor(idx / 12)}`;
}
