// Building DOM nodes without HTML strings: every text goes in as text, never markup.

/** h("tag.class#id", {attrs}, ...children): an element. Attributes starting with "on" are
 *  listeners; `null`/`false` attributes and children are skipped. */
export function h(spec, attrs = {}, ...children) {
  const [tagAndClasses, id] = spec.split("#");
  const [tag, ...classes] = tagAndClasses.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  if (id) el.id = id;
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

export function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value" && "value" in el) el.value = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replace the contents of `el` with `children`. */
export function mount(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let uid = 0;
/** A fresh id for label/input pairs. */
export function nextId(prefix = "f") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form field: returns {wrap, input, error}; `input` is the control given. */
export function field(label, input, hint) {
  if (!input.id) input.id = nextId();
  const error = h("p.field-error", { id: `${input.id}-error`, role: "alert", hidden: true });
  const hintEl = hint ? h("p.hint", { id: `${input.id}-hint` }, hint) : null;
  input.setAttribute("aria-describedby",
    [hintEl ? hintEl.id : null, error.id].filter(Boolean).join(" "));
  const wrap = h("div.field", {}, h("label", { for: input.id }, label), input, hintEl, error);
  return { wrap, input, error };
}

/** Show (or clear, with null) a message under a field made by `field`. */
export function setFieldError(f, message) {
  f.error.textContent = message || "";
  f.error.hidden = !message;
  f.input.toggleAttribute("aria-invalid", Boolean(message));
}

/** A table from column specs [{key, label, fmt, num}] and row objects. With `sortable`, the
 *  headers are buttons that sort by that column (click again: reverse). */
export function table(columns, rows, { sortable = false, caption = null, rowClass = null } = {}) {
  const tbody = h("tbody");
  let order = { key: null, dir: 1 };
  const render = () => {
    let data = rows;
    if (order.key) {
      const col = columns.find((c) => c.key === order.key);
      const get = col.sortValue || ((r) => r[col.key]);
      data = [...rows].sort((a, b) => compare(get(a), get(b)) * order.dir);
    }
    mount(tbody, data.map((r) => h("tr", { class: rowClass ? rowClass(r) : null },
      columns.map((c) => h(c.num ? "td.num" : "td", {},
        c.render ? c.render(r) : c.fmt ? c.fmt(r[c.key], r) : r[c.key] ?? "")))));
  };
  const head = h("tr", {}, columns.map((c) => {
    const th = h(c.num ? "th.num" : "th", { scope: "col" });
    if (!sortable || c.sort === false) { th.textContent = c.label; return th; }
    th.setAttribute("aria-sort", "none");
    const btn = h("button.sort", { type: "button" }, c.label);
    btn.addEventListener("click", () => {
      order = { key: c.key, dir: order.key === c.key ? -order.dir : (c.num ? -1 : 1) };
      for (const other of head.querySelectorAll("th")) other.setAttribute("aria-sort", "none");
      th.setAttribute("aria-sort", order.dir > 0 ? "ascending" : "descending");
      render();
    });
    th.append(btn);
    return th;
  }));
  render();
  return h("div.table-wrap", {}, h("table", {}, caption ? h("caption", {}, caption) : null,
    h("thead", {}, head), tbody));
}

function compare(a, b) {
  const na = a === null || a === undefined || Number.isNaN(a);
  const nb = b === null || b === undefined || Number.isNaN(b);
  if (na || nb) return na === nb ? 0 : na ? 1 : -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}
