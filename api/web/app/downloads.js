// The downloads of a run: its CSV tables, PNG charts and JSON result.

import { download, saveUrl } from "./api.js";
import { h } from "./dom.js";

export function downloads(runId, result) {
  const item = (label, path, filename) => h("li", {}, h("button.link", { type: "button",
    onclick: () => download(path, filename) }, label));
  const json = h("li", {}, h("button.link", { type: "button", onclick: () => {
    const blob = new Blob([JSON.stringify(result.result, null, 2)], { type: "application/json" });
    saveUrl(URL.createObjectURL(blob), `run-${runId}-result.json`);
  } }, "result.json"));
  return h("section.card.downloads", { "aria-labelledby": `dl-${runId}` },
    h("h2", { id: `dl-${runId}` }, "Downloads"),
    h("ul.inline", {}, json,
      result.tables.map((t) => item(`${t}.csv`, `v1/runs/${runId}/tables/${t}`, `run-${runId}-${t}.csv`)),
      result.charts.map((c) => item(`${c}.png`, `v1/runs/${runId}/charts/${c}`, `run-${runId}-${c}.png`))));
}
