// The app shell: sign-in state, the hash router and the header.

import { api, ApiError, session } from "./api.js";
import { h, mount } from "./dom.js";
import { renderRun, renderRuns } from "./pages/runs.js";
import { renderBuilder } from "./pages/builder.js";
import { renderScenario } from "./pages/scenario.js";
import { renderScenarios } from "./pages/scenarios.js";
import { renderSignIn } from "./pages/signin.js";
import { renderTrackForm } from "./pages/track.js";

const ROUTES = [
  [/^#\/signin$/, renderSignIn],
  [/^#\/scenarios$/, renderScenarios],
  [/^#\/scenarios\/(\d+)$/, renderScenario],
  [/^#\/scenarios\/(\d+)\/whatif$/, renderBuilder],
  [/^#\/track(?:\/(\d+))?$/, renderTrackForm],
  [/^#\/runs$/, renderRuns],
  [/^#\/runs\/(\d+)$/, renderRun],
];

const view = () => document.getElementById("view");
let current = null; // {cleanup} of the page on screen

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function header() {
  const signedIn = Boolean(session.key);
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("who").hidden = !signedIn;
  const me = session.me;
  document.getElementById("who-text").textContent = !signedIn ? ""
    : me ? `${me.name} · ${me.role} · workspace ${me.workspace}` : "Signed in";
  document.getElementById("who-text").title = me ? ({
    viewer: "A viewer reads everything; running, saving and cancelling need the planner role",
    planner: "A planner reads, saves scenarios and runs them",
    admin: "An admin plans and manages the workspace's keys" })[me.role] || "" : "";
  for (const a of document.querySelectorAll("#nav a")) {
    const active = location.hash.startsWith(a.getAttribute("href"));
    if (active) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

async function route() {
  if (current && current.cleanup) current.cleanup();
  current = null;
  let hash = location.hash || "#/scenarios";
  if (!session.key && hash !== "#/signin") {
    sessionStorage.setItem("salesplan.after", hash);
    hash = "#/signin";
    history.replaceState(null, "", hash);
  }
  if (session.key && !session.me && hash !== "#/signin") {
    try { session.me = await api.get("v1/keys/me"); } catch { /* 401: signed out, re-routed */ }
    if (!session.key) return;
  }
  header();
  const el = view();
  for (const [re, render] of ROUTES) {
    const m = hash.match(re);
    if (!m) continue;
    mount(el, h("p.loading", {}, "Loading…"));
    current = {};
    try {
      await render(el, m.slice(1), current);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return; // signed out: re-routed
      mount(el, h("div.error-page", { role: "alert" }, h("h1", {}, "Something went wrong"),
        h("p", {}, err.message),
        h("p", {}, h("a", { href: "#/scenarios" }, "Back to the scenarios"))));
    }
    const heading = el.querySelector("h1");
    if (heading) document.title = `${heading.textContent} · salesplan`;
    return;
  }
  mount(el, h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/scenarios" }, "Scenarios")));
}

window.addEventListener("hashchange", route);
window.addEventListener("signed-out", (e) => {
  sessionStorage.setItem("salesplan.signin-message",
    `Signed out: ${e.detail}. Sign in with a valid key.`);
  go("#/signin");
});
document.getElementById("sign-out").addEventListener("click", () => {
  session.key = null;
  go("#/signin");
});
route();

export { api };
