// The scenarios: a list, and an upload of a scenario file with its CSV tables (drag and drop
// or a file picker).

import { api, can } from "../api.js";
import { viewerNote } from "../role.js";
import { h, mount, table } from "../dom.js";
import { int, when } from "../format.js";

const DOCUMENT = /\.(ya?ml|json)$/i;

export async function renderScenarios(view) {
  const list = await api.get("v1/scenarios?limit=500");
  const rows = list.data.map((sc) => ({ ...sc, counts: sc.latest ? sc.latest.counts : {} }));
  const body = rows.length
    ? table([
      { key: "name", label: "Scenario",
        render: (r) => h("a", { href: `#/scenarios/${r.id}` }, r.name) },
      { key: "latest_version", label: "Version", num: true },
      { key: "regions", label: "Regions", num: true, render: (r) => int(r.counts.regions) },
      { key: "reps", label: "Reps", num: true, render: (r) => int(r.counts.reps) },
      { key: "accounts", label: "Accounts", num: true, render: (r) => int(r.counts.accounts) },
      { key: "variants", label: "What-ifs", num: true, render: (r) => int(r.counts.variants) },
      { key: "updated", label: "Updated", fmt: when },
    ], rows, { caption: `${int(list.count)} scenario${list.count === 1 ? "" : "s"}` })
    : h("p.empty", {}, "No scenarios yet: upload one below.");
  mount(view, h("h1", {}, "Scenarios"), h("section#scenario-list", {}, body),
    can("planner") ? uploadPanel() : viewerNote("uploading a scenario"));
  performance.mark("scenarios-listed"); // read by benchmarks/webapp.py
}

function uploadPanel() {
  const input = h("input#upload-files", { type: "file", multiple: true,
    accept: ".yaml,.yml,.json,.csv" });
  const chosen = h("ul.files", { "aria-live": "polite" });
  const status = h("div.upload-status", { role: "status" });
  const button = h("button.primary", { type: "submit", disabled: true }, "Upload");
  let files = [];

  const show = () => {
    mount(chosen, files.map((f) => h("li", {}, DOCUMENT.test(f.name) ? "Scenario: " : "Table: ",
      f.name)));
    button.disabled = !files.some((f) => DOCUMENT.test(f.name));
  };
  const add = (list) => {
    const byName = new Map(files.map((f) => [f.name, f]));
    for (const f of list) byName.set(f.name, f);
    files = [...byName.values()];
    show();
  };
  input.addEventListener("change", () => add(input.files));

  const zone = h("label.dropzone", { for: "upload-files" },
    h("strong", {}, "Drop the scenario file (YAML or JSON) and its CSV tables here"),
    h("span", {}, " or click to choose them."));
  for (const ev of ["dragenter", "dragover"]) {
    zone.addEventListener(ev, (e) => { e.preventDefault(); zone.classList.add("over"); });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    add(e.dataTransfer.files);
  });

  const form = h("form.upload", { "aria-labelledby": "upload-title" },
    h("h2#upload-title", {}, "Upload a scenario"), zone, input, chosen, button, status);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const docs = files.filter((f) => DOCUMENT.test(f.name));
    if (docs.length !== 1) {
      mount(status, h("p.error", {}, `Choose exactly one scenario file (YAML or JSON); got ${
        docs.length}: ${docs.map((d) => d.name).join(", ")}.`));
      return;
    }
    const data = new FormData();
    data.append("file", docs[0], docs[0].name);
    for (const t of files.filter((f) => !DOCUMENT.test(f.name))) data.append("tables", t, t.name);
    button.disabled = true;
    mount(status, h("p", {}, "Checking the scenario…"));
    try {
      const sc = await api.upload("v1/scenarios/upload", data);
      location.hash = `#/scenarios/${sc.id}`;
    } catch (err) {
      mount(status, problemsBox(err));
      button.disabled = false;
    }
  });
  return form;
}

/** An API error with its problems listed (path: message). */
export function problemsBox(err) {
  return h("div.error", { role: "alert" }, h("p", {}, err.message),
    err.problems && err.problems.length
      ? h("ul", {}, err.problems.map((p) => h("li", {}, p.path ? h("code", {}, p.path) : null,
        p.path ? ": " : "", p.message)))
      : null);
}
