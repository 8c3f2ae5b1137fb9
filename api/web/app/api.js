// The HTTP API client: every call goes to this server's /v1 routes with the API key.
// URLs are relative to the app's folder, so a reverse proxy's path prefix needs no setting.

const KEY = "salesplan.apiKey";
const ME = "salesplan.me";
const ROLES = ["viewer", "planner", "admin"];
const ROOT = new URL("../", import.meta.url);

export class ApiError extends Error {
  /** `status`: HTTP status (0: no answer); `problems`: [{path, message}] from a 422. */
  constructor(status, detail, problems = []) {
    super(detail);
    this.status = status;
    this.problems = problems;
  }
}

export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  set key(value) {
    sessionStorage.removeItem(ME);
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
  },
  /** The key's {name, workspace, role} from GET /v1/keys/me, or null before it is known. */
  get me() {
    try { return JSON.parse(sessionStorage.getItem(ME)); } catch { return null; }
  },
  set me(value) {
    if (value) sessionStorage.setItem(ME, JSON.stringify(value));
    else sessionStorage.removeItem(ME);
  },
};

/** Whether the signed-in key's role is `role` or above (viewer < planner < admin). The page
 *  offers only what the role may do; the API refuses the rest anyway (403). */
export function can(role) {
  const me = session.me;
  return Boolean(me) && ROLES.indexOf(me.role) >= ROLES.indexOf(role);
}

export function url(path) {
  return new URL(path.replace(/^\//, ""), ROOT).href;
}

async function errorFrom(res) {
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  const detail = body && typeof body.detail === "string" ? body.detail
    : `${res.status} ${res.statusText || "error"}`;
  return new ApiError(res.status, detail, (body && body.problems) || []);
}

/** fetch with the key; JSON in and out. `key` overrides the stored key (sign-in). */
export async function request(method, path, { json, form, key, raw = false } = {}) {
  const headers = { "X-API-Key": key ?? session.key ?? "" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  let res;
  try {
    res = await fetch(url(path), { method, headers, body });
  } catch (exc) {
    throw new ApiError(0, `the server did not answer (${exc.message})`);
  }
  if (!res.ok) {
    const err = await errorFrom(res);
    if (res.status === 401 && key === undefined) {
      session.key = null;
      window.dispatchEvent(new CustomEvent("signed-out", { detail: err.message }));
    }
    throw err;
  }
  if (raw) return res;
  if (res.status === 204) return null;
  return res.json();
}

export const api = {
  get: (path, opts) => request("GET", path, opts),
  post: (path, json) => request("POST", path, { json }),
  put: (path, json) => request("PUT", path, { json }),
  del: (path) => request("DELETE", path),
  upload: (path, form) => request("POST", path, { form }),
  /** A table of a run as row objects (numbers parsed). */
  async table(runId, name) {
    const res = await request("GET", `v1/runs/${runId}/tables/${name}`, { raw: true });
    return parseCsv(await res.text());
  },
  /** A run's file (table or chart) as a blob: URL, for <img> and downloads. */
  async blobUrl(path) {
    const res = await request("GET", path, { raw: true });
    return URL.createObjectURL(await res.blob());
  },
};

/** Download a file the API serves (the key travels in a header, so a plain link cannot). */
export async function download(path, filename) {
  const href = await api.blobUrl(path);
  saveUrl(href, filename);
}

export function saveUrl(href, filename) {
  const a = document.createElement("a");
  a.href = href;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10000);
}

/** RFC 4180 CSV -> array of objects keyed by the header; numeric-looking cells become numbers,
 *  "True"/"False" booleans, empty cells null. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i += 1; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i += 1;
      row.push(cell); rows.push(row); row = []; cell = "";
    } else cell += c;
  }
  if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
  const [head, ...body] = rows.filter((r) => r.length > 1 || r[0] !== "");
  if (!head) return [];
  return body.map((r) => Object.fromEntries(head.map((k, j) => [k, typed(r[j])])));
}

function typed(v) {
  if (v === undefined || v === "") return null;
  if (v === "True" || v === "true") return true;
  if (v === "False" || v === "false") return false;
  if (/^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(v)) return Number(v);
  return v;
}
