// The what-if builder: variants of a scenario made of levers, each lever a form. Saving sends
// the scenario with its variants to the API as a new version; the API validates every value
// and its messages appear beside the fields they name. Then the variants run side by side.

import { api, can, saveUrl } from "../api.js";
import { viewerNote } from "../role.js";
import { field, h, mount, nextId, setFieldError } from "../dom.js";
import { horizonMonth } from "../format.js";
import { choices, describe, LEVERS } from "../levers.js";
import { section } from "../scenario-data.js";
import { toYaml } from "../yaml.js";
import { loadScenario } from "./scenario.js";

export async function renderBuilder(view, [id]) {
  let { sc, version } = await loadScenario(id);
  const doc = version.document;
  const reps = section(version, "reps");
  const existing = h("ul.variants");
  const levers = [];      // [{lever, fields: [{spec, wrap, input, error}], card}]
  const leverList = h("div.levers");
  const status = h("div.status", { role: "status" });

  const name = field("Name", h("input", { name: "variant-name", type: "text",
    value: `variant-${(doc.variants || []).length + 1}`, autocomplete: "off" }),
  "Letters, digits, - and _; a new name adds a variant, an existing one replaces it.");
  const description = field("In words", h("input", { name: "variant-description", type: "text",
    autocomplete: "off", placeholder: "written from the levers unless you type your own" }));
  let ownWords = false;
  description.input.addEventListener("input", () => { ownWords = description.input.value !== ""; });

  const unticked = new Set(); // variants left out of the next run (kept across re-draws)
  existing.addEventListener("change", (e) => {
    if (e.target.checked) unticked.delete(e.target.value); else unticked.add(e.target.value);
  });
  const drawExisting = () => mount(existing, (doc.variants || []).map((v) => h("li", {},
    h("label", {}, h("input", { type: "checkbox", name: "run-variant", value: v.name,
      checked: !unticked.has(v.name) }),
      " ", h("strong", {}, v.name), v.description ? ` — ${v.description}` : ""))));
  drawExisting();

  const kind = h("select#add-lever-kind", { "aria-label": "Lever to add" },
    Object.entries(LEVERS).map(([k, l]) => h("option", { value: k }, l.label)));
  const addButton = h("button", { type: "button" }, "Add lever");
  addButton.addEventListener("click", () => addLever(kind.value));

  function addLever(type) {
    const spec = LEVERS[type];
    const fields = spec.fields.map((fs) => {
      let input;
      if (fs.type === "select" || fs.type === "month" || fs.type === "bool") {
        const opts = fs.type === "month"
          ? Array.from({ length: doc.horizon.months }, (_, k) => [String(k + 1),
            `${horizonMonth(doc.horizon.start, k + 1)} (month ${k + 1})`])
          : fs.type === "bool" ? [["true", "yes"], ["false", "no"]]
            : (fs.options || choices(fs.from, doc, reps)).map((o) => [o, o]);
        const blank = fs.optional || fs.type === "bool" ? [["", fs.type === "bool" ? "as the scenario says" : "—"]] : [];
        input = h("select", { name: fs.name }, [...blank, ...opts].map(([v, t]) => h("option", { value: v,
          selected: String(fs.value ?? "") === v }, t)));
      } else {
        input = h("input", { name: fs.name, type: fs.type === "text" ? "text" : "number",
          step: fs.type === "int" ? 1 : fs.step ?? "any", value: fs.value ?? "",
          inputmode: fs.type === "text" ? null : "decimal" });
      }
      input.addEventListener("input", updateWords);
      input.addEventListener("change", updateWords);
      return { spec: fs, ...field(fs.label, input) };
    });
    const remove = h("button.link", { type: "button" }, "Remove");
    const card = h("fieldset.lever", { "data-lever": type },
      h("legend", {}, spec.label), h("div.lever-fields", {}, fields.map((f) => f.wrap)), remove);
    const entry = { lever: type, fields, card };
    remove.addEventListener("click", () => {
      levers.splice(levers.indexOf(entry), 1);
      card.remove();
      updateWords();
    });
    levers.push(entry);
    leverList.append(card);
    updateWords();
    fields[0].input.focus();
  }

  function leverValues(entry) {
    const out = { lever: entry.lever };
    for (const f of entry.fields) {
      const raw = f.input.value.trim();
      if (raw === "") continue;
      let v = raw;
      if (["int", "number", "month"].includes(f.spec.type)) v = Number(raw);
      if (f.spec.type === "bool") v = raw === "true";
      const [a, b] = f.spec.name.split(".");
      if (b) out[a] = { ...(out[a] || {}), [b]: v };
      else out[a] = v;
    }
    return out;
  }

  function updateWords() {
    if (!ownWords) description.input.value = levers.length ? describe(levers.map(leverValues), doc) : "";
  }

  function variant() {
    return { name: name.input.value.trim(), description: description.input.value.trim(),
      levers: levers.map(leverValues) };
  }

  function withVariant() {
    const v = variant();
    const next = structuredClone(doc);
    next.variants = [...(doc.variants || []).filter((x) => x.name !== v.name), v];
    return { next, v };
  }

  function clearErrors() {
    setFieldError(name, null);
    for (const e of levers) for (const f of e.fields) setFieldError(f, null);
    mount(status);
  }

  /** Put each problem beside its field; the rest in the status box. True when all placed. */
  function placeProblems(err, v) {
    const rest = [];
    const prefix = `variants[${v.name}]`;
    for (const p of err.problems || []) {
      const m = p.path.startsWith(prefix) && p.path.slice(prefix.length).match(/^\.levers\[(\d+)\]\.?([\w.]*)/);
      let f = null;
      if (m && levers[Number(m[1])]) {
        const entry = levers[Number(m[1])];
        f = entry.fields.find((x) => x.spec.name === m[2] || x.spec.name.split(".")[0] === m[2].split(".")[0])
          || (m[2] === "" ? entry.fields[0] : null);
      } else if (p.path.startsWith(prefix) && /\.name$|^variants\[[^\]]*\]$/.test(p.path)) f = name;
      if (f) setFieldError(f, p.message);
      else rest.push(p);
    }
    mount(status, h("div.error", { role: "alert" }, h("p", {}, rest.length || !(err.problems || []).length
      ? err.message : "The API found problems; each is shown beside its field."),
    rest.length ? h("ul", {}, rest.map((p) => h("li", {}, p.path ? `${p.path}: ` : "", p.message))) : null));
  }

  async function save() {
    clearErrors();
    const { next, v } = withVariant();
    if (!v.levers.length) {
      mount(status, h("p.error", { role: "alert" }, "Add at least one lever."));
      return null;
    }
    try {
      sc = await api.put(`v1/scenarios/${id}`, { document: next, tables: version.tables });
    } catch (err) {
      placeProblems(err, v);
      return null;
    }
    version = await api.get(`v1/scenarios/${id}/versions/${sc.latest_version}`);
    Object.assign(doc, version.document);
    drawExisting();
    mount(status, h("p.ok", {}, `Saved as version ${sc.latest_version}, with variant ${v.name}.`));
    return v;
  }

  const replications = field("Replications per variant", h("input", { type: "number", name: "replications",
    value: 200, step: 1 }));
  const seed = field("Seed", h("input", { type: "number", name: "seed", value: 0, step: 1 }));
  const runFields = [{ spec: { name: "replications" }, ...replications }, { spec: { name: "seed" }, ...seed }];

  async function run(names) {
    for (const f of runFields) setFieldError(f, null);
    try {
      const r = await api.post("v1/runs", { scenario_id: Number(id), kind: "whatif", options: {
        variants: names, replications: Number(replications.input.value),
        seed: Number(seed.input.value) } });
      location.hash = `#/runs/${r.id}`;
    } catch (err) {
      const rest = [];
      for (const p of err.problems || []) {
        const f = runFields.find((x) => p.path === `options.${x.spec.name}`);
        if (f) setFieldError(f, p.message); else rest.push(p);
      }
      mount(status, h("div.error", { role: "alert" }, h("p", {}, err.message),
        rest.length ? h("ul", {}, rest.map((p) => h("li", {}, `${p.path}: ${p.message}`))) : null));
    }
  }

  const checkedNames = () => [...existing.querySelectorAll("input:checked")].map((i) => i.value);
  const saveButton = h("button", { type: "button", onclick: save }, "Save as a new version");
  const saveRun = h("button.primary", { type: "button", onclick: async () => {
    const v = await save();
    if (v) await run([...new Set([...checkedNames(), v.name])]);
  } }, "Save and run");
  const runChecked = h("button", { type: "button", onclick: () => run(checkedNames()) },
    "Run the ticked variants");
  const yaml = h("button.link", { type: "button", onclick: () => {
    const { next } = levers.length ? withVariant() : { next: doc };
    const blob = new Blob([toYaml(next)], { type: "application/yaml" });
    saveUrl(URL.createObjectURL(blob), `${doc.name}.yaml`);
  } }, "Download the YAML");

  const formId = nextId("builder");
  const canPlan = can("planner");
  mount(view,
    h("div.page-head", {}, h("div", {}, h("h1", {}, `What-if: ${doc.name}`),
      h("p.sub", {}, `Version ${version.version}. Each variant is the scenario with its levers `
        + "applied; all run on the same random numbers as the plan, so differences are paired.")),
    h("div.actions", {}, h("a.button", { href: `#/scenarios/${id}` }, "Back to the scenario"))),
    h("div.grid2.builder", {},
      h("form.card", { id: formId, novalidate: true, "aria-labelledby": `${formId}-t`,
        onsubmit: (e) => { e.preventDefault(); saveRun.click(); } },
      h("h2", { id: `${formId}-t` }, "New variant"), name.wrap, description.wrap, leverList,
      h("div.add-lever", {}, kind, addButton),
      h("div.buttons", {}, canPlan ? [saveRun, saveButton] : null, yaml),
      canPlan ? null : viewerNote("saving and running a variant"), status),
      h("section.card", { "aria-labelledby": "b-existing" },
        h("h2#b-existing", {}, "Variants of this scenario"), existing,
        canPlan ? [h("div.run-options", {}, replications.wrap, seed.wrap), runChecked] : null)));
}
