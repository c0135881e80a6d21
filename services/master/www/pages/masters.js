// Masters: each master, whether it is active and when it was last seen.

import * as api from "../api.js";
import { ago, html, setHTML, utc } from "../util.js";

export async function render(view) {
  view.el.innerHTML = "<h1>Masters</h1><div class=\"list\"></div>";
  const target = view.el.querySelector(".list");
  const load = async () => {
    const [mastersBody, workersBody] = await Promise.all([api.get("masters", { order: "name" }), api.get("workers")]);
    const masters = api.list(mastersBody, "masters");
    const workers = api.list(workersBody, "workers");
    setHTML(target, html`<table class="masters"><thead><tr><th>Master</th><th>State</th><th>Last active</th><th>Workers connected</th></tr></thead><tbody>
      ${masters.map((m) => html`<tr><td><b>${m.name}</b></td>
        <td>${m.active ? html`<span class="badge r-success">active</span>` : html`<span class="badge r-cancelled">inactive</span>`}</td>
        <td title="${utc(m.last_active)}">${ago(m.last_active)}</td>
        <td>${workers.filter((w) => w.connected_to.some((c) => c.masterid === m.masterid)).map((w) => html`<span class="worker-pill on">${w.name}</span>`)}</td></tr>`)}
      </tbody></table>`);
  };
  const refresh = view.refresher(load, 500);
  await view.subscribe("masters/*/*", refresh);
  await view.subscribe("workers/*/*", refresh);
  await refresh();
}
