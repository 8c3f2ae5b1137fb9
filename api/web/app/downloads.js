// The downloads of a run: the whole result as one zip, the report a person reads (when the
// kind writes one), the JSON result, its CSV tables and PNG charts.

import { download, saveUrl } from "./api.js";
import { h } from "./dom.js";

export function downloads(runId, result) {
  const item = (label, path, filename, cls = "") => h("li", {}, h(`button.link${cls}`, {
    type: "button", "data-file": filename, onclick: () => download(path, filename) }, label));
  const json = h("li", {}, h("button.link", { type: "button", "data-file": "result.json",
    onclick: () => {
      const blob = new Blob([JSON.stringify(result.result, null, 2)], { type: "application/json" });
      saveUrl(URL.createObjectURL(blob), `run-${runId}-result.json`);
    } }, "result.json"));
  const files = result.files || [];
  const reports = files.filter((f) => f.endsWith(".html"));
  return h("section.card.downloads", { "aria-labelledby": `dl-${runId}` },
    h("h2", { id: `dl-${runId}` }, "Downloads"),
    h("ul.inline.main-downloads", {},
      item("Everything (zip)", `v1/runs/${runId}/download`, `run-${runId}.zip`, ".strong"),
      reports.map((f) => item(`The report (${f})`, `v1/runs/${runId}/files/${f}`,
        `run-${runId}-${f}`, ".strong"))),
    h("ul.inline", {}, json,
      result.tables.map((t) => item(`${t}.csv`, `v1/runs/${runId}/tables/${t}`, `run-${runId}-${t}.csv`)),
      result.charts.map((c) => item(`${c}.png`, `v1/runs/${runId}/charts/${c}`, `run-${runId}-${c}.png`))));
}
